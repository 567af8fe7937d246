# Run by crashloop in place of its last run: the gaps between runs, PID 1's
# memory, and the end. The unit then stays up (the loop is over).
LOG=/bench/out/crash.log
say "records $(($(wc -c < $LOG) / 42))"
runs $LOG all
if [ "$MID" -gt 0 ]; then
    gaps $LOG 1 $((MID - 1)) first
    gaps $LOG $((MID + 1)) $((END - 1)) second
else
    gaps $LOG 1 $((END - 1)) first
fi
say "end-smaps $(rollup 1)"
footprint
say END
