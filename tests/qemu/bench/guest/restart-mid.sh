# Run by crashloop in place of run $MID: PID 1's memory after $((MID - 1))
# restarts, then crash (exit 1) so the loop goes on.
say "mid-smaps $(rollup 1)"
exit 1
