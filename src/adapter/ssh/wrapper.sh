# drctl's ssh step wrapper, run by /bin/sh on the remote host. Fixed text:
# no value of the step is in it. After it, its stdin holds a line with the
# byte count of the step's program, that program (the step's values as
# quoted assignments, then its script), and then nothing until drctl closes
# the connection, which is how the remote side learns that drctl stopped
# the step (timeout, Ctrl-C) or died: sshd sends no signal when a
# connection without a terminal closes.
drctl_lost() {
    echo "drctl: the step's program did not arrive whole on stdin (is stdin forwarded? StdinNull, ssh -n)" >&2
    exit 125
}
IFS= read -r drctl_n || drctl_lost
drctl_program=$(head -c "$drctl_n") || drctl_lost
if ! command -v setsid >/dev/null 2>&1; then
    echo "drctl: the remote host has no setsid (util-linux), which drctl needs to stop the step's processes" >&2
    exit 125
fi
exec 3<&0
# The program reaches the shell on a pipe, never in an argument or the
# environment (where `ps` would show a secret). It is read whole before
# any of it runs, so a command reading stdin reads nothing of it. setsid:
# the step runs in a process group of its own, which the watcher can stop.
if command -v bash >/dev/null 2>&1; then
    printf '%s\n' "$drctl_program" | setsid bash --norc --noprofile -euo pipefail -c 'eval "$(cat)"' 3<&- &
else
    printf '%s\n' "$drctl_program" | setsid sh -c 'eval "$(cat)"' 3<&- &
fi
drctl_step=$!
drctl_program=
# The watcher: when the connection closes, SIGTERM to the step's group,
# the grace period, then SIGKILL to what is left.
(
    while IFS= read -r drctl_line; do :; done
    trap '' TERM
    kill -s TERM -- "-$drctl_step" 2>/dev/null
    kill -s CONT -- "-$drctl_step" 2>/dev/null
    drctl_tenths=0
    while [ "$drctl_tenths" -lt 50 ] && kill -s 0 -- "-$drctl_step" 2>/dev/null; do
        sleep 0.1
        drctl_tenths=$((drctl_tenths + 1))
    done
    kill -s KILL -- "-$drctl_step" 2>/dev/null
) <&3 >/dev/null 2>&1 &
drctl_watcher=$!
exec 3<&-
wait "$drctl_step"
drctl_code=$?
# Ended by itself: the watcher has nothing to do (it ignores this once the
# connection closed and it is stopping the step).
kill "$drctl_watcher" 2>/dev/null
exit "$drctl_code"
