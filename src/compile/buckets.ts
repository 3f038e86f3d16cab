// Minimal-move balancing: a hash of the source (or source and destination)
// picks one of BUCKETS buckets, and each bucket belongs to a member chosen by
// weighted rendezvous hashing (highest random weight): every (bucket, member)
// pair gets a pseudo-random score, scaled by the member's weight, and the
// bucket goes to the best score. Taking a member out moves only its own
// buckets (each to its runner-up); bringing it back moves exactly those back —
// about weight/total of the sources, where `jhash mod N` would move most of
// them. Pure and deterministic: the same members give the same map on every
// router and every reload.
const BUCKETS = 256;

/** A 32-bit hash of a string (FNV-1a, then murmur3's finaliser to spread the bits). */
function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The member of each bucket: weighted rendezvous, score = -weight / ln(u), u in (0, 1). */
export function bucketMap(members: { name: string; weight: number }[], buckets = BUCKETS): string[] {
  const out: string[] = [];
  for (let b = 0; b < buckets; b++) {
    let best = '';
    let bestScore = -Infinity;
    for (const m of members) {
      const u = (hash32(`${m.name}/${b}`) + 0.5) / 4294967296;
      const score = -m.weight / Math.log(u);
      if (score > bestScore) {
        bestScore = score;
        best = m.name;
      }
    }
    out.push(best);
  }
  return out;
}
