# bash completion for microvmctl(1)                        -*- shell-script -*-
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Verbs, options, and the names of guests, images and snapshots, which are asked of the daemon with
# a one-second bound (timeout(1)), so a daemon that does not answer never holds the prompt;
# with -H HOST, of HOST's through ssh, in batch mode (never a prompt) and with three seconds.

# microvmctl with the options $1 (--session, -H HOST) that pick the daemon, then the rest
__microvmctl_ask() {
    local bus=$1 bound=1
    shift
    [[ $bus == *-H* ]] && bound=3
    MICROVMCTL_SSH="${MICROVMCTL_SSH:-ssh} -o BatchMode=yes" \
        timeout $bound microvmctl $bus --no-ask-password "$@" 2>/dev/null
}

# Guest names from "microvmctl list", those whose state matches the extended regex $2.
__microvmctl_guests() {
    local bus=$1 states=$2
    __microvmctl_ask "$bus" list | awk -v s="^($states)" 'NR > 1 && $2 ~ s { print $1 }'
}

__microvmctl_images() {
    __microvmctl_ask "$1" image list | awk 'NR > 1 { print $1 }'
}

# The names of guest $2's snapshots
__microvmctl_snapshots() {
    __microvmctl_ask "$1" snapshot list "$2" | awk 'NR > 1 { print $1 }'
}

_microvmctl() {
    local cur prev words cword
    _init_completion || return

    local globals="--session --host --json --no-ask-password --version --help"
    local verbs="list status define undefine clone create run start stop kill reboot pause resume
                 check set-memory stats autostart reload console log image snapshot"
    local -A options=(
        [list]="--json" [status]="--json" [stats]="--json"
        [start]="--wait-ready --timeout --if-stopped --snapshot" [stop]="--timeout"
        [console]="--no-escape --force --read-only --linger"
        [log]="--follow --lines --raw" [image]="--size" [clone]="--full" [run]="--image"
        [snapshot]="--json"
    )

    # bash splits --host=HOST at "=": "--host" "=" "HOST"
    if [[ $prev == -H || $prev == --host ||
        ($prev == = && ${words[cword - 2]} == --host) ]]; then
        _known_hosts_real -a -- "$cur"
        return
    fi

    # the verb: the first word after the global options; --session and -H change the daemon
    local i verb="" bus="" vi=0
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
        --session) bus+=" --session" ;;
        -H | --host)
            [[ ${words[i + 1]} == = ]] && ((i++))
            bus+=" -H ${words[i + 1]}"
            ((i++)) ;;
        -H?*) bus+=" ${words[i]}" ;;
        -*) ;;
        *) verb=${words[i]}; vi=$i; break ;;
        esac
    done

    if [[ -z $verb ]]; then
        COMPREPLY=($(compgen -W "$globals $verbs" -- "$cur"))
        return
    fi
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "${options[$verb]} --help" -- "$cur"))
        return
    fi

    # the verb's arguments so far, options and their values left out
    local args=()
    for ((i = vi + 1; i < cword; i++)); do
        case ${words[i]} in
        --timeout | -t | --linger | --lines | -n | --size | --image | --snapshot)
            [[ ${words[i + 1]} == = ]] && ((i++))
            ((i++)) ;;
        -*) ;;
        *) args+=("${words[i]}") ;;
        esac
    done
    local n=${#args[@]}

    # "start NAME --snapshot <TAB>": the snapshots of the guest named before
    if [[ $prev == --snapshot || ($prev == = && ${words[cword - 2]} == --snapshot) ]]; then
        ((n > 0)) &&
            COMPREPLY=($(compgen -W "$(__microvmctl_snapshots "$bus" "${args[0]}")" -- "$cur"))
        return
    fi
    case $prev in
    --timeout | -t | --linger | --lines | -n | --size) return ;;
    esac

    case $verb in
    define | create | check)
        _filedir guest ;;
    run)
        if [[ $prev == --image ]]; then
            COMPREPLY=($(compgen -W "$(__microvmctl_images "$bus")" -- "$cur"))
        else
            _filedir guest
        fi ;;
    clone)
        ((n == 0)) && COMPREPLY=($(compgen -W "$(__microvmctl_guests "$bus" '.*')" -- "$cur")) ;;
    start | undefine | autostart | status | log)
        if ((n == 0)); then
            COMPREPLY=($(compgen -W "$(__microvmctl_guests "$bus" '.*')" -- "$cur"))
        elif [[ $verb == autostart && n -eq 1 ]]; then
            COMPREPLY=($(compgen -W "on off" -- "$cur"))
        fi ;;
    stop | kill | reboot | pause | console | stats | set-memory)
        ((n == 0)) &&
            COMPREPLY=($(compgen -W "$(__microvmctl_guests "$bus" 'running|paused|starting')" \
                -- "$cur")) ;;
    resume)
        ((n == 0)) && COMPREPLY=($(compgen -W "$(__microvmctl_guests "$bus" paused)" -- "$cur")) ;;
    image)
        if ((n == 0)); then
            COMPREPLY=($(compgen -W "import list inspect remove" -- "$cur"))
        else
            case ${args[0]} in
            inspect | remove)
                ((n == 1)) &&
                    COMPREPLY=($(compgen -W "$(__microvmctl_images "$bus")" -- "$cur")) ;;
            import)
                if [[ $cur == -* ]]; then
                    COMPREPLY=($(compgen -W "--size" -- "$cur"))
                elif ((n == 2)); then
                    _filedir
                fi ;;
            esac
        fi ;;
    snapshot)
        if ((n == 0)); then
            COMPREPLY=($(compgen -W "save list remove" -- "$cur"))
        elif ((n == 1)); then
            # only a running guest can be saved
            local states='.*'
            [[ ${args[0]} == save ]] && states=running
            COMPREPLY=($(compgen -W "$(__microvmctl_guests "$bus" "$states")" -- "$cur"))
        elif [[ ${args[0]} == remove && n -eq 2 ]]; then
            COMPREPLY=($(compgen -W "$(__microvmctl_snapshots "$bus" "${args[1]}")" -- "$cur"))
        fi ;;
    esac
}

complete -F _microvmctl microvmctl
