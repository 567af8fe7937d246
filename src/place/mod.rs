//! Where a unit runs: its cgroup, the cgroup limits, and the placement
//! of its processes (affinity, NUMA, scheduling, rlimits).

pub(crate) mod cgroup;
pub(crate) mod cgroup_limits;
pub(crate) mod process;
