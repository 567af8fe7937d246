# ftrace's function_graph tracer on every system call, page fault and the
# fork, exit and exec work below them, for 50 ms of restarts; the
# console gets the trace. Under icount its durations count instructions.
# Only the functions in set_ftrace_filter are patched, so the rest of the
# kernel runs at full speed. x86_64 names (__x64_sys_*).
mount -t tracefs nodev /sys/kernel/tracing || exit 1
cd /sys/kernel/tracing || exit 1
echo 0 > tracing_on
echo 8192 > buffer_size_kb
echo '__x64_sys_*' > set_ftrace_filter
for f in exc_page_fault schedule_tail do_group_exit dup_mmap copy_page_range \
    copy_process wake_up_new_task cgroup_can_fork cgroup_post_fork \
    __mem_cgroup_charge alloc_bprm bprm_execve do_open_execat \
    load_elf_binary begin_new_exec exec_mm_release mmput exit_mmap \
    unmap_vmas free_pgtables tlb_finish_mmu setup_arg_pages elf_map \
    exit_mm_release exit_files cgroup_exit release_task; do
    echo "$f" >> set_ftrace_filter 2>/dev/null
done
echo 1 > options/funcgraph-abstime
echo 1 > options/funcgraph-proc
echo function_graph > current_tracer
for e in sched_switch sched_wakeup sched_process_exec sched_process_exit; do
    echo 1 > "events/sched/$e/enable"
done
sleep 1
echo 1 > tracing_on
sleep 0.05
echo 0 > tracing_on
echo "=== TRACE"
cat trace
echo "=== END"
poweroff -f
