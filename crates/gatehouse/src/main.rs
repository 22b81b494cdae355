use clap::Parser as _;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = gatehouse::cli::Cli::parse();
    gatehouse::telemetry::init(cli.log.as_deref(), cli.log_format);
    let result = gatehouse::commands::run(cli).await;
    // Lines below WARN wait in a buffer (see `log_writer`): out with them before exiting.
    gatehouse::log_writer::flush();
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
