//! The `samverkan` command: parses the command line and calls the library.
#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};
use samverkan::auth::Principal;
use samverkan::config::Settings;
use samverkan::error::AppError;
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
    Seed {
        /// Also load the large, deterministic benchmark data set.
        #[arg(long)]
        bench: bool,
    },
    /// Manage user accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage partner tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Write a consistent copy of the SQLite database to PATH while the server serves.
    Backup {
        /// Where to write the copy; must not exist.
        path: std::path::PathBuf,
    },
    /// Put a backup back as the SQLite database, which must not exist yet.
    Restore {
        /// The backup to restore.
        path: std::path::PathBuf,
    },
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

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user; the password is read from standard input, never from the arguments.
    Create {
        /// Sign-in address.
        #[arg(long)]
        email: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// Make the user an admin.
        #[arg(long)]
        admin: bool,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a read-only partner token and print its secret, once.
    Create {
        /// What it is for, such as the partner website.
        #[arg(long)]
        name: String,
        /// What it may read.
        #[arg(long, value_enum, default_value_t = Scope::ReadPublic)]
        scope: Scope,
        /// A browser origin allowed to use it (repeatable); none means server-side only.
        #[arg(long = "origin")]
        origins: Vec<String>,
    },
}

/// What a partner token may read, as the GraphQL enum spells it.
#[derive(Clone, Copy, clap::ValueEnum)]
enum Scope {
    /// Public records.
    #[value(name = "READ_PUBLIC")]
    ReadPublic,
    /// Public records and the network's internal ones.
    #[value(name = "READ_NETWORK")]
    ReadNetwork,
}

impl From<Scope> for entity::TokenScope {
    fn from(scope: Scope) -> Self {
        match scope {
            Scope::ReadPublic => Self::ReadPublic,
            Scope::ReadNetwork => Self::ReadNetwork,
        }
    }
}

/// A request allocates and frees many small values (rows, fields, JSON); mimalloc serves
/// them with thread-local free lists. Against glibc's allocator, on the benchmark data in
/// PostgreSQL (wrk, 32 connections): +33% requests/s on W1, +42% on W3, +19% on W2.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if settings.json_logs {
        logs.json().flatten_event(true).init();
    } else {
        logs.init();
    }
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
                connect(&settings).await?;
                println!("migrations applied");
                Ok(())
            }
            Command::Seed { bench } => {
                let db = connect(&settings).await?;
                if bench {
                    let started = std::time::Instant::now();
                    samverkan::seed::bench::load(&db, |step| {
                        eprintln!(
                            "seed --bench: {step} ({:.1} s)",
                            started.elapsed().as_secs_f64()
                        )
                    })
                    .await
                    .map_err(AppError::into_report)?;
                    println!(
                        "benchmark data set loaded in {:.1} s",
                        started.elapsed().as_secs_f64()
                    );
                } else if samverkan::seed::demo_if_empty(&db)
                    .await
                    .map_err(AppError::into_report)?
                {
                    println!("demo network loaded");
                } else {
                    println!("the database already holds data; nothing loaded");
                }
                Ok(())
            }
            Command::User {
                command: UserCommand::Create { email, name, admin },
            } => {
                let password = read_password()?;
                let db = connect(&settings).await?;
                let input = samverkan::account::users::NewUser {
                    email,
                    name,
                    password,
                    admin,
                };
                let user = samverkan::account::users::create(&db, &Principal::system(), input)
                    .await
                    .map_err(AppError::into_report)?;
                println!(
                    "created user {} ({}){}",
                    user.email,
                    samverkan::graphql::ids::encode(
                        samverkan::graphql::ids::NodeType::User,
                        user.id
                    )
                    .0,
                    if user.admin { ", admin" } else { "" }
                );
                Ok(())
            }
            Command::Token {
                command:
                    TokenCommand::Create {
                        name,
                        scope,
                        origins,
                    },
            } => {
                let db = connect(&settings).await?;
                let input = samverkan::account::tokens::NewApiToken {
                    name,
                    scope: scope.into(),
                    allowed_origins: origins,
                    expires_at: None,
                };
                let (secret, token) =
                    samverkan::account::tokens::create(&db, &Principal::system(), input)
                        .await
                        .map_err(AppError::into_report)?;
                eprintln!(
                    "created partner token {:?} ({}); the secret below is shown only this once:",
                    token.name, token.prefix
                );
                println!("{secret}");
                Ok(())
            }
            Command::Backup { path } => {
                samverkan::backup::sqlite_file(&settings.database)?;
                let db = samverkan::db::connect(&settings.database).await?;
                samverkan::backup::backup(&db, &path).await?;
                println!("backup written to {} and checked", path.display());
                Ok(())
            }
            Command::Restore { path } => {
                let target = samverkan::backup::restore(&path, &settings.database).await?;
                println!("{} restored to {}", path.display(), target.display());
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

/// Connects to the configured database and brings its schema up to date.
async fn connect(
    settings: &Settings,
) -> Result<sea_orm::DatabaseConnection, Box<dyn std::error::Error>> {
    let db = samverkan::db::connect(&settings.database).await?;
    samverkan::db::migrate(&db).await?;
    Ok(db)
}

/// The password from standard input: its first line, without the line ending.
fn read_password() -> Result<String, Box<dyn std::error::Error>> {
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        eprintln!("password (at least 12 characters), then Enter:");
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}
