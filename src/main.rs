//! The `quakelab` command: parse the arguments and hand over to the library.

fn main() -> std::process::ExitCode {
    quakelab::cli::main()
}
