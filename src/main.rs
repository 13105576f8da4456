//! The `drctl` executable: everything happens in [`drctl::run`].

fn main() {
    // Descriptors drctl inherited open (`drctl run x 7>file`, a CI runner's
    // pipes) are not passed on: no step, supervisor or hook gets them. drctl
    // itself can still read them (`--inputs /dev/fd/7`). One system call
    // (`close_range` with `CLOSE_RANGE_CLOEXEC`), before any thread starts.
    close_fds::set_fds_cloexec(3, &[]);
    std::process::exit(drctl::run());
}
