//! Every capacity of the service table, in one place. A limit that is
//! reached is an error naming the limit, never a silent truncation.
//!
//! Memory: a `Table` reserves room for `UNITS_MAX` units, but only the
//! slots in use are ever written (heapless::Vec), so untouched slots of a
//! static table are never paged in. See docs/config.md for the sizes.

/// Largest config file, in bytes. PID 1 reads it into one buffer.
pub const FILE_MAX: usize = 64 * 1024;
/// Longest statement, in bytes, continuation lines included. A unit's
/// decoded argv (with a NUL after each argument) always fits in this.
pub const LINE_MAX: usize = 4096;
/// Units (service, task, tty) in one table.
pub const UNITS_MAX: usize = 256;
/// Program plus arguments of one unit (spawn's execve vector holds them
/// and its NULL).
pub const ARGS_MAX: usize = 64;
/// Global `env` statements.
pub const ENV_MAX: usize = 32;
/// `env=` options of one unit (spawn's envp vector holds these, the
/// global ones, PATH, NOTIFY_SOCKET and its NULL).
pub const UNIT_ENV_MAX: usize = 16;
/// A unit's environment from the table, decoded, a NUL after each entry:
/// its `env=` entries and the `env` statements it does not override.
/// Spawn has room of its own beyond this for PATH and NOTIFY_SOCKET.
pub const ENV_BYTES_MAX: usize = 4096;
/// A path, decoded: `dir=`, `tty=`, `if=path:`, a mount's SOURCE and
/// TARGET. PID 1 decodes them into buffers one byte longer (the NUL).
pub const PATH_MAX: usize = 255;
/// A `sysctl` VALUE, decoded, and its KEY as a /proc/sys path.
pub const SYSCTL_MAX: usize = 255;
/// A mount's options that are not flags (mount(2)'s data), joined by
/// commas.
pub const MOUNT_DATA_MAX: usize = 511;
/// Units named by one unit's `after=` and `needs=` together.
pub const DEPS_MAX: usize = 16;
/// Entries of `groups=`, and the supplementary groups a `user=` gets from
/// /etc/group (more is an error when the unit starts).
pub const GROUPS_MAX: usize = 16;
/// `if=` conditions of one unit.
pub const CONDS_MAX: usize = 8;
/// `env-file=` options of one unit.
pub const ENV_FILES_MAX: usize = 4;
/// `runtime-dir=` options of one unit.
pub const RUN_DIRS_MAX: usize = 8;
/// Longest `runtime-dir=` NAME (the directory is /run/NAME).
pub const RUN_DIR_NAME_MAX: usize = 64;
/// `rlimit.NAME=` options of one unit (there are 16 rlimits).
pub const RLIMITS_MAX: usize = 16;
/// `listen=` sockets of one unit (fds 3 to 18 of its process).
pub const LISTEN_MAX: usize = 16;
/// `listen=` sockets of a whole table: each is an fd PID 1 holds for
/// good.
pub const SOCKETS_MAX: usize = 128;
/// Instances of `accept=yes` units running at once, all units together
/// (PID 1's fixed instance table); also the top of `max-instances=`.
pub const INSTANCES_MAX: usize = 256;
/// A Unix socket's path (sun_path holds 108 bytes with the NUL).
pub const SOCKET_PATH_MAX: usize = 107;
/// A FIFO's path.
pub const FIFO_PATH_MAX: usize = 255;
/// `hostname`, `mount`, `sysctl` and `irq-affinity` statements together.
pub const SETUP_MAX: usize = 64;
/// Unit names: 1 to 31 of `[A-Za-z0-9_.-]` (a cgroup directory name).
pub const NAME_MAX: usize = 31;
/// User and group names.
pub const USER_MAX: usize = 32;
/// The `watchdog` statement's DEVICE path, decoded (PID 1 keeps its own
/// copy, so a reload can compare the old statement with the new one).
pub const WATCHDOG_DEVICE_MAX: usize = 63;
/// Host names (HOST_NAME_MAX).
pub const HOSTNAME_MAX: usize = 64;
/// Errors reported by one parse; the next one ends it with "too many".
pub const ERRORS_MAX: usize = 32;
/// CPU and NUMA node numbers are below this (the kernel's masks are
/// 1024 bits on Debian's kernels, NR_CPUS up to 8192 elsewhere).
pub const CPUS_MAX: usize = 1024;
/// 64-bit words of a CPU or node mask.
pub const MASK_WORDS: usize = CPUS_MAX / 64;
/// Unit names shown in one cycle message before `...`.
pub const CYCLE_SHOWN: usize = 16;
