# bash completion for multihome (install as /usr/share/bash-completion/completions/multihome)
_multihome() {
  local cur prev words cword
  cur=${COMP_WORDS[COMP_CWORD]}
  prev=${COMP_WORDS[COMP_CWORD-1]}
  local commands="validate plan apply confirm down explain state run status reload failback routes lab help"
  local cmd="" i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case ${COMP_WORDS[i]} in
      --netns|--state-dir|-c|--config) ((i++)) ;;
      -*) ;;
      *) cmd=${COMP_WORDS[i]}; break ;;
    esac
  done
  case $prev in
    -c|--config|--state) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --state-dir) COMPREPLY=($(compgen -d -- "$cur")); return ;;
    --netns) COMPREPLY=($(compgen -W "$(ip netns list 2>/dev/null | cut -d' ' -f1)" -- "$cur")); return ;;
    --iif|--oif) COMPREPLY=($(compgen -W "$(ls /sys/class/net 2>/dev/null)" -- "$cur")); return ;;
    --proto) COMPREPLY=($(compgen -W "tcp udp icmp icmpv6 sctp" -- "$cur")); return ;;
    --log-format) COMPREPLY=($(compgen -W "text json journal" -- "$cur")); return ;;
    --log-level) COMPREPLY=($(compgen -W "error warning info debug" -- "$cur")); return ;;
    --on-stop) COMPREPLY=($(compgen -W "keep remove" -- "$cur")); return ;;
  esac
  local opts
  case $cmd in
    "") COMPREPLY=($(compgen -W "$commands --netns --state-dir --version --help" -- "$cur")); return ;;
    validate|plan|down) opts="-c --config --json" ;;
    apply) opts="-c --config --confirm --json" ;;
    confirm|status|reload) opts="--json" ;;
    failback) opts="--json" ;;
    explain) opts="-c --config --live --state --from --to --proto --sport --dport --iif --oif --mark --ctmark --established --tos --uid --json" ;;
    state) opts="save --json" ;;
    run) opts="-c --config --on-stop --log-format --log-level" ;;
    routes) opts="sync -c --config --json" ;;
    lab) opts="up down list demo seed seed6 --json" ;;
  esac
  COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
complete -F _multihome multihome
