//! A hello-world Lambda bootstrap: answers each event with itself. Built with the workspace's release
//! profile, it is the floor `scripts/coldstart` compares the functions' start-up against.

use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(
        |event: LambdaEvent<serde_json::Value>| async move { Ok::<_, Error>(event.payload) },
    ))
    .await
}
