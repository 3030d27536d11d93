//! The `samverkan` command: parses the command line and calls the library.
#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};
use samverkan::config::Settings;
use std::process::ExitCode;

/// Samverkan: the shared record of a civil-society network's advocacy work, as a GraphQL API.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Load the demo network into an empty database.
    Seed,
    /// Print the GraphQL schema (SDL), or check `schema.graphql` against the code.
    Schema {
        /// Exit non-zero when the file differs from the schema the code builds.
        #[arg(long)]
        check: bool,
        /// The file to check.
        #[arg(long, default_value = "schema.graphql")]
        path: std::path::PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Schema { check, path }) = &cli.command {
        return schema(*check, path);
    }
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(message) => {
            eprintln!("samverkan: {message}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("samverkan: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result: Result<(), Box<dyn std::error::Error>> = runtime.block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => samverkan::serve(settings).await,
            Command::Migrate => {
                let db = samverkan::db::connect(&settings.database).await?;
                samverkan::db::migrate(&db).await?;
                println!("migrations applied");
                Ok(())
            }
            Command::Seed => {
                let db = samverkan::db::connect(&settings.database).await?;
                samverkan::db::migrate(&db).await?;
                if samverkan::seed::demo_if_empty(&db)
                    .await
                    .map_err(samverkan::error::AppError::into_report)?
                {
                    println!("demo network loaded");
                } else {
                    println!("the database already holds data; nothing loaded");
                }
                Ok(())
            }
            Command::Schema { .. } => Ok(()),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("samverkan: {error}");
            ExitCode::FAILURE
        }
    }
}

fn schema(check: bool, path: &std::path::Path) -> ExitCode {
    let sdl = samverkan::graphql::sdl();
    if !check {
        print!("{sdl}");
        return ExitCode::SUCCESS;
    }
    match std::fs::read_to_string(path) {
        Ok(committed) if committed == sdl => {
            println!("{} is up to date", path.display());
            ExitCode::SUCCESS
        }
        Ok(_) => {
            eprintln!(
                "samverkan: {} differs from the schema in the code; run `samverkan schema > {}`",
                path.display(),
                path.display()
            );
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("samverkan: cannot read {}: {error}", path.display());
            ExitCode::FAILURE
        }
    }
}
