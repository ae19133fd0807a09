//! `event-codegen`: check a schema catalog, or generate its Rust types.

use clap::{Args, Parser, Subcommand};
use codespan_reporting::term::termcolor::{ColorChoice, StandardStream};
use event_codegen::{Config, Error, Lint, LintLevel};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "event-codegen",
    version,
    about = "JSON Schema event catalogs to Rust types"
)]
struct Cli {
    /// When to color the diagnostics; a flag of every subcommand (the
    /// documentation commands report problems as plain lines, uncolored).
    #[arg(
        long,
        global = true,
        default_value = "auto",
        value_parser = ["auto", "always", "never"]
    )]
    color: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Read and check every schema under DIR; report what was found and
    /// every problem.
    Check {
        /// The schema root.
        dir: PathBuf,
        /// The schema root of the previous release: published versions
        /// must not change.
        #[arg(long, value_name = "DIR")]
        against: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// Check, then write the generated Rust to OUT/<file-name>.
    Generate {
        /// The schema root.
        dir: PathBuf,
        /// The output directory.
        #[arg(long)]
        out: PathBuf,
        /// The generated file's name.
        #[arg(long, default_value = "events.rs")]
        file_name: String,
        #[command(flatten)]
        common: Common,
    },
    #[command(flatten)]
    Docs(DocCommand),
}

/// The documentation commands: they read the catalog as plain JSON and
/// report problems one per line.
#[derive(Subcommand)]
enum DocCommand {
    /// Write the Markdown catalog (an index by domain, a page per event
    /// type) to OUT.
    Catalog {
        /// The schema root.
        dir: PathBuf,
        /// The output directory.
        #[arg(long)]
        out: PathBuf,
    },
    /// Write one AsyncAPI 3.0 document per service to OUT/<service>.json.
    Asyncapi {
        /// The schema root.
        dir: PathBuf,
        /// The output directory.
        #[arg(long)]
        out: PathBuf,
    },
    /// Write Prometheus alerting rules, OUT/<service>.rules.yml, with their
    /// promtool tests beside them, and with `--dashboard` the Grafana
    /// dashboard OUT/events-dashboard.json.
    Alerts(event_codegen::alerts::AlertArgs),
}

#[derive(Args)]
struct Common {
    /// Report LINT as a warning instead of an error (repeatable).
    #[arg(long = "warn", value_name = "LINT", value_parser = parse_lint)]
    warn: Vec<Lint>,
    /// Do not check LINT (repeatable).
    #[arg(long = "allow", value_name = "LINT", value_parser = parse_lint)]
    allow: Vec<Lint>,
    /// Allow the vendor keyword NAME in shared definitions, without a
    /// warning (repeatable).
    #[arg(long = "allow-keyword", value_name = "NAME")]
    allow_keyword: Vec<String>,
    /// Do not warn that the `format` NAME is unknown (repeatable).
    #[arg(long = "allow-format", value_name = "NAME")]
    allow_format: Vec<String>,
    /// Keep the members a closed object (`additionalProperties: false`) of
    /// a shared definition does not name, rather than refuse them; unions
    /// still refuse them to tell their alternatives apart.
    #[arg(long = "tolerate-closed-objects")]
    tolerate_closed_objects: bool,
    /// The dialect of a file whose `$schema` names none: `2020-12` (the
    /// default) or `7`.
    #[arg(long = "default-draft", value_name = "DRAFT", value_parser = parse_draft, default_value = "2020-12")]
    default_draft: event_codegen::Dialect,
    /// The path of the runtime crate in the generated code.
    #[arg(long, default_value = "::event_runtime")]
    runtime_crate: String,
    /// The largest schema file read, in bytes; a larger one is refused
    /// unread (`schema-too-large`).
    #[arg(long, value_name = "BYTES", default_value_t = event_codegen::MAX_SCHEMA_BYTES)]
    max_schema_bytes: usize,
}

fn parse_draft(s: &str) -> Result<event_codegen::Dialect, String> {
    match s {
        "7" | "draft7" | "draft-07" => Ok(event_codegen::Dialect::Draft7),
        "2020-12" | "draft2020-12" => Ok(event_codegen::Dialect::Draft2020_12),
        _ => Err(format!("unknown draft `{s}`; drafts: 7, 2020-12")),
    }
}

fn parse_lint(s: &str) -> Result<Lint, String> {
    Lint::from_name(s).ok_or_else(|| {
        let names: Vec<&str> = Lint::ALL.iter().map(|l| l.name()).collect();
        format!("unknown lint `{s}`; lints: {}", names.join(", "))
    })
}

fn docs(command: DocCommand) -> Result<String, String> {
    match command {
        DocCommand::Catalog { dir, out } => {
            let files = event_codegen::compat::load_dir(&dir)?;
            let pages = event_codegen::docs::render_catalog(&files)?;
            let changed = event_codegen::docs::write_pages(&out, &pages)?;
            Ok(format!(
                "{} page(s) in {}, {changed} file(s) written or removed",
                pages.len(),
                out.display()
            ))
        }
        DocCommand::Alerts(args) => event_codegen::alerts::run(&args),
        DocCommand::Asyncapi { dir, out } => {
            let files = event_codegen::compat::load_dir(&dir)?;
            let documents = event_codegen::asyncapi::render_asyncapi(&files)?;
            let written = event_codegen::asyncapi::write_documents(&out, &documents)?;
            Ok(format!(
                "{} AsyncAPI document(s) in {}, {written} file(s) written",
                documents.len(),
                out.display()
            ))
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut config = Config::new();
    let (dir, common, out, against) = match cli.command {
        Command::Docs(command) => {
            return match docs(command) {
                Ok(summary) => {
                    println!("{summary}");
                    ExitCode::SUCCESS
                }
                Err(problems) => {
                    eprintln!("{problems}");
                    ExitCode::FAILURE
                }
            };
        }
        Command::Check {
            dir,
            against,
            common,
        } => (dir, common, None, against),
        Command::Generate {
            dir,
            out,
            file_name,
            common,
        } => (dir, common, Some((out, file_name)), None),
    };
    if let Some(previous) = against {
        config.against(previous);
    }
    config
        .schema_root(&dir)
        .runtime_crate(&common.runtime_crate)
        .cargo_directives(false);
    for lint in &common.warn {
        config.lint(*lint, LintLevel::Warn);
    }
    for lint in &common.allow {
        config.lint(*lint, LintLevel::Allow);
    }
    for keyword in &common.allow_keyword {
        config.allow_keyword(keyword);
    }
    config.tolerate_closed_objects(common.tolerate_closed_objects);
    for format in &common.allow_format {
        config.allow_format(format);
    }
    config
        .default_dialect(common.default_draft)
        .max_schema_bytes(common.max_schema_bytes);
    let color = match cli.color.as_str() {
        "always" => ColorChoice::Always,
        "never" => ColorChoice::Never,
        _ if std::io::IsTerminal::is_terminal(&std::io::stderr()) => ColorChoice::Auto,
        _ => ColorChoice::Never,
    };
    let mut stderr = StandardStream::stderr(color);
    let result = match &out {
        Some((out, file_name)) => config.out_dir(out).file_name(file_name).generate(),
        None => config.check(),
    };
    match result {
        Ok(generation) => {
            // Rendering to the terminal can only fail if stderr is closed.
            let _ = generation.diagnostics.emit(&mut stderr);
            println!("{generation}");
            if let Some(path) = &generation.written {
                let state = if generation.changed {
                    "written"
                } else {
                    "unchanged"
                };
                println!("{}: {state}", path.display());
            }
            ExitCode::SUCCESS
        }
        Err(Error::Schema(diagnostics)) => {
            let _ = diagnostics.emit(&mut stderr);
            let (errors, warnings) = diagnostics.counts();
            eprintln!(
                "error: {} has {errors} error(s) and {warnings} warning(s); nothing generated",
                dir.display()
            );
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
