//! The command line: what each command takes (clap).

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "orderbridge",
    about = "orderbridge on one machine, and the operator's commands"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Args, Clone)]
pub(crate) struct Backend {
    /// The embedded database's folder.
    #[arg(long, default_value = ".data", global = true)]
    pub(crate) data_dir: PathBuf,
    /// Use the deployed DynamoDB table and SQS queues instead.
    #[arg(long, global = true)]
    pub(crate) aws: bool,
    /// Print JSON for scripts.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// The shop to look at, when the deployment serves several (default: the default shop, the one
    /// shop of a one-shop deployment).
    #[arg(long, global = true)]
    pub(crate) shop: Option<String>,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Runs webhook-ingest, order-poller and fulfillment-push in one process, against the platform
    /// sandbox (or, with --real-platforms, the platforms the environment names).
    Dev {
        /// Port of the local webhook endpoint.
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Where the embedded database lives.
        #[arg(long, default_value = ".data")]
        data_dir: PathBuf,
        /// Seconds between poller runs.
        #[arg(long, default_value_t = 10)]
        poll_seconds: u64,
        /// Use the platform settings of the environment instead of the in-process sandbox.
        #[arg(long)]
        real_platforms: bool,
        /// Use DynamoDB and SQS (at AWS_ENDPOINT_URL, or the account) instead of the embedded database,
        /// creating the table and queues first if they are missing.
        #[arg(long)]
        aws: bool,
        /// The table's name, with --aws.
        #[arg(long, default_value = orderbridge::store::provision::DEFAULT_TABLE)]
        table: String,
        /// The sync queue's name, with --aws.
        #[arg(long, default_value = orderbridge::store::provision::DEFAULT_QUEUE)]
        queue: String,
    },
    /// Runs the pipeline through a scripted scenario against the sandbox; exits 0 only if it ends consistent.
    Demo {
        /// Where the demo's embedded database lives (emptied first).
        #[arg(long, default_value = ".data/demo")]
        data_dir: PathBuf,
    },
    /// The system's health on one screen: each channel's cursor, how far behind and how its last run
    /// ended; the queue and the dead letters.
    Status {
        #[command(flatten)]
        backend: Backend,
    },
    /// Looks at orders: the unified view and the trail of writes.
    Orders {
        #[command(subcommand)]
        command: OrdersCommand,
        #[command(flatten)]
        backend: Backend,
    },
    /// The dead-letter queue: what failed for good, and sending it back.
    Dlq {
        #[command(subcommand)]
        command: DlqCommand,
        #[command(flatten)]
        backend: Backend,
    },
    /// Imports a channel's history for a date range, without touching the live cursor.
    Backfill {
        /// zonos, google or genstore.
        #[arg(long)]
        channel: String,
        /// First day, YYYY-MM-DD.
        #[arg(long)]
        since: String,
        /// Last day, YYYY-MM-DD (default today).
        #[arg(long)]
        through: Option<String>,
        #[command(flatten)]
        backend: Backend,
    },
    /// Produces a customer's stored personal data (for a `customers/data_request`) as JSON, and records
    /// the export on the trail of each order it covers. Personal data: write it where it belongs.
    CustomerData {
        /// The Genstore customer id the request names.
        #[arg(long)]
        customer: Option<String>,
        /// A Genstore order id the request names (repeatable).
        #[arg(long = "order")]
        orders: Vec<String>,
        /// The request's id, for the trail (the webhook id of the data request).
        #[arg(long, default_value = "operator")]
        request: String,
        /// Write the data to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        backend: Backend,
    },
    /// Creates the table and the queues (DynamoDB and SQS at AWS_ENDPOINT_URL or the account).
    Provision {
        /// The table's name.
        #[arg(long, default_value = orderbridge::store::provision::DEFAULT_TABLE)]
        table: String,
        /// The sync queue's name (its dead-letter queue is named after it).
        #[arg(long, default_value = orderbridge::store::provision::DEFAULT_QUEUE)]
        queue: String,
    },
}

#[derive(Subcommand)]
pub(crate) enum OrdersCommand {
    /// Orders, one row per order (its external side and its Genstore mirror together), newest first.
    List {
        /// Only this unified status (placed, paid, shipped, cancelled, ...).
        #[arg(long)]
        status: Option<String>,
        /// Only orders from this channel (zonos, google, genstore).
        #[arg(long)]
        channel: Option<String>,
        /// Only orders that need someone: a dead letter, a missing side, a failing push.
        #[arg(long)]
        stuck: bool,
        /// How many table items to read for this page.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// The page after this token (printed at the end of the previous page).
        #[arg(long)]
        after: Option<String>,
    },
    /// One order (channel:order-id) with its linked orders and the writes made for it.
    Show { order: String },
}

#[derive(Subcommand)]
pub(crate) enum DlqCommand {
    /// Lists the dead letters.
    List,
    /// Sends every dead letter back to the sync queue.
    Replay,
}
