//! Where a unit runs: its cgroup, the cgroup limits, and the placement
//! of its processes (affinity, NUMA, scheduling, rlimits).

pub mod cgroup;
pub mod cgroup_limits;
pub mod process;
