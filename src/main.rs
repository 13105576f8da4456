//! The `drctl` executable: everything happens in [`drctl::run`].

fn main() {
    std::process::exit(drctl::run());
}
