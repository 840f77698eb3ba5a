//! The function's edge to Lambda: the invocation's deadline, and how a run's summary answers the
//! invocation.

use crate::{RunSummary, Until};

/// The invocation's deadline ([`lambda_runtime::Context::deadline`]).
pub fn deadline(context: &lambda_runtime::Context) -> Until {
    Until(orderbridge::clock::instant_of(context.deadline()))
}

/// The invocation's answer: the summary, or, when a channel has failed without progress for longer
/// than `POLL_STALL_AFTER_MINUTES`, an error carrying the summary (which fails the invocation and sets
/// off the alarm on failed runs). A transient fault is in the summary and the metrics, and the next run
/// gets past it, so it does not fail the invocation.
pub fn answer(summary: RunSummary) -> Result<RunSummary, lambda_runtime::Error> {
    if summary.stalled().is_empty() {
        return Ok(summary);
    }
    Err(lambda_runtime::Error::from(
        serde_json::to_string(&summary).unwrap_or_default(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ChannelSummary, Deadline};

    fn run(channel: &str, error: Option<&str>, stalled: bool) -> ChannelSummary {
        ChannelSummary {
            channel: channel.into(),
            error: error.map(str::to_owned),
            stalled,
            ..ChannelSummary::default()
        }
    }

    #[test]
    fn a_transient_fault_answers_with_the_summary() {
        let summary = RunSummary {
            channels: vec![
                run("zonos", Some("timeout"), false),
                run("google", None, false),
            ],
        };
        assert_eq!(answer(summary.clone()).unwrap(), summary);
    }

    #[test]
    fn a_stalled_channel_fails_the_invocation_with_the_summary() {
        let summary = RunSummary {
            channels: vec![run("zonos", None, false), run("google", Some("401"), true)],
        };
        let err = answer(summary.clone()).unwrap_err().to_string();
        let carried: RunSummary = serde_json::from_str(&err).unwrap();
        assert_eq!(carried, summary);
    }

    #[test]
    fn the_deadline_is_the_contexts() {
        let mut context = lambda_runtime::Context::default();
        let now_ms = u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap();
        context.deadline = now_ms + 20_000;
        let left = deadline(&context).remaining();
        assert!(left.as_secs() >= 18 && left.as_secs() <= 20, "{left:?}");
        context.deadline = 0;
        assert_eq!(deadline(&context).remaining().as_secs(), 0);
    }
}
