//! `ramp`: the command line for Ramp. Parses the arguments, runs one command against the store,
//! and turns the outcome into an exit code: 0 on success, 1 on any error (printed as one
//! `error: ` line on stderr), 2 for usage errors (clap's own).
//!
//! Everything else lives in `commands/` (one file per subcommand group) and `output.rs`.

mod cli;
mod commands;
mod key_value;
mod output;
mod time_input;
mod user_id_input;

use std::process::ExitCode;

use crate::cli::Cli;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse_arguments();
    match commands::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        // `ramp features | head` closes the pipe early; that is the reader's choice, not a failure.
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", one_line(&error));
            ExitCode::FAILURE
        }
    }
}

/// The error's own message only: library errors already include their causes in it, so
/// printing the whole chain would repeat them. Newlines are folded so scripts can rely on one line.
fn one_line(error: &anyhow::Error) -> String {
    error.to_string().replace(['\r', '\n'], " ")
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .chain()
        .filter_map(|cause| cause.downcast_ref::<std::io::Error>())
        .any(|cause| cause.kind() == std::io::ErrorKind::BrokenPipe)
}
