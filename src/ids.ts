// The names and numbers multihome shares with the kernel and other tools: the
// nft table it owns, the kernel's reserved routing tables, iproute2's route
// protocol names. A leaf module (it imports nothing), so every layer — config,
// compile, kernel, apply, the importers — can use them without importing one
// another.

/** multihome's nftables table: `table inet multihome`. */
export const NFT_FAMILY = 'inet';
export const NFT_TABLE = 'multihome';
/** The chain whose comment carries the table's fingerprint. */
export const FINGERPRINT_CHAIN = 'fingerprint';

/** Chains of multihome's own table, as the nft importer names them ("inet/multihome/prerouting"). */
export const isOwnChain = (name: string): boolean => name.startsWith(`${NFT_FAMILY}/${NFT_TABLE}/`);

/** The kernel's reserved routing table ids (include/uapi/linux/rtnetlink.h, RT_TABLE_*). */
export const TABLE_IDS = { unspec: 0, default: 253, main: 254, local: 255 } as const;

/** rtnetlink protocol names as in iproute2's rt_protos. */
export const RT_PROTOCOLS: Record<string, number> = {
  unspec: 0,
  redirect: 1,
  kernel: 2,
  boot: 3,
  static: 4,
  gated: 8,
  ra: 9,
  mrt: 10,
  zebra: 11,
  bird: 12,
  dnrouted: 13,
  xorp: 14,
  ntk: 15,
  dhcp: 16,
  keepalived: 18,
  babel: 42,
  openr: 99,
  bgp: 186,
  isis: 187,
  ospf: 188,
  rip: 189,
  eigrp: 192,
};
