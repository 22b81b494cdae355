use clap::Parser as _;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = gatehouse::cli::Cli::parse();
    gatehouse::telemetry::init(cli.log.as_deref(), cli.log_format);
    match gatehouse::commands::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
