//! Transition counts against hand-worked cases (the working is in each test's
//! comment), the executor's retry timing and concurrency, and parse errors with
//! positions.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use serde_json::{json, Value};

use super::count::{count, CountReport};
use super::exec::*;
use super::machine::ExecutionType;
use super::parse::parse;
use super::value::Val;

fn machine(asl: &Value) -> Arc<super::Machine> {
    Arc::new(parse("t.asl.json", &serde_json::to_string_pretty(asl).unwrap()).expect("parses"))
}

fn counted(asl: &Value, input: Option<Value>, fails: &[(&str, u32)]) -> CountReport {
    let m = machine(asl);
    let plan: BTreeMap<_, _> = fails
        .iter()
        .map(|(n, k)| (m.state_id(n).expect("state exists"), *k))
        .collect();
    count(&m, input.as_ref(), &plan).expect("counts")
}

fn entered(r: &CountReport, name: &str) -> (u64, u64) {
    r.states
        .iter()
        .find(|s| s.name == name)
        .map_or((0, 0), |s| (s.entered, s.retries))
}

const LAMBDA: &str = "arn:aws:lambda:us-east-1:123456789012:function:work";

#[test]
fn pass_chain_is_one_transition_per_state() {
    // A -> B -> C: three Pass states entered once each = 3.
    let asl = json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "B"},
        "B": {"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.b", "Next": "C"},
        "C": {"Type": "Pass", "End": true}}});
    let r = counted(&asl, Some(json!({"in": 0})), &[]);
    assert_eq!((r.transitions, r.states_entered, r.retries), (3, 3, 0));
    assert_eq!(
        r.outcome,
        Outcome::Succeeded(json!({"in": 0, "b": {"x": 1}}).into())
    );
    let names: Vec<_> = r.states.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["A", "B", "C"]);
}

#[test]
fn wait_counts_once_and_asks_for_its_seconds() {
    // W (Wait 5 s) -> S (Succeed) = 2 transitions; the Wait asks for 5e9 ns.
    let asl = json!({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "SecondsPath": "$.delay", "Next": "S"},
        "S": {"Type": "Succeed"}}});
    let r = counted(&asl, Some(json!({"delay": 5})), &[]);
    assert_eq!(r.transitions, 2);
    let m = machine(&asl);
    let mut e = Execution::start(&m, json!({"delay": 5}).into());
    let mut out = Vec::new();
    e.poll(&mut out);
    e.granted(0);
    out.clear();
    e.poll(&mut out);
    assert_eq!(
        out,
        [Action::Wait {
            cursor: 0,
            ns: 5_000_000_000,
            full_jitter: false
        }]
    );
}

fn choice_machine() -> Value {
    json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [
            {"Variable": "$.kind", "StringEquals": "video", "Next": "Video"},
            {"And": [{"Variable": "$.n", "NumericGreaterThanEquals": 10},
                     {"Not": {"Variable": "$.flag", "BooleanEquals": true}}], "Next": "Big"}],
         "Default": "Other"},
        "Video": {"Type": "Pass", "Next": "Done"},
        "Big": {"Type": "Pass", "Next": "Done"},
        "Other": {"Type": "Pass", "Next": "Done"},
        "Done": {"Type": "Succeed"}}})
}

#[test]
fn choice_takes_each_branch_and_the_default() {
    // Choice + the branch's Pass + Succeed = 3 on every path.
    let asl = choice_machine();
    let r = counted(&asl, Some(json!({"kind": "video"})), &[]);
    assert_eq!((r.transitions, entered(&r, "Video").0), (3, 1));
    let r = counted(
        &asl,
        Some(json!({"kind": "audio", "n": 12, "flag": false})),
        &[],
    );
    assert_eq!((r.transitions, entered(&r, "Big").0), (3, 1));
    // n = 12 but flag true: the And fails, Default.
    let r = counted(
        &asl,
        Some(json!({"kind": "audio", "n": 12, "flag": true})),
        &[],
    );
    assert_eq!((r.transitions, entered(&r, "Other").0), (3, 1));
}

#[test]
fn choice_on_a_missing_variable_asks_the_driver_or_names_the_path() {
    let asl = choice_machine();
    let m = machine(&asl);
    let e = count(&m, None, &BTreeMap::new()).unwrap_err().to_string();
    assert!(
        e.contains("state \"C\"") && e.contains("$.kind") && e.contains("--input"),
        "{e}"
    );
    // A driver answers Choose: branch 1 ("Big").
    let mut x = Execution::start(&m, json!({}).into());
    let mut out = Vec::new();
    x.poll(&mut out);
    x.granted(0);
    out.clear();
    x.poll(&mut out);
    assert!(
        matches!(&out[..], [Action::Choose { branches: 3, variable, .. }] if &**variable == "$.kind")
    );
    x.chose(0, 1);
    out.clear();
    x.poll(&mut out);
    assert!(matches!(out[0], Action::Enter { state, .. } if m.state(state).name == "Big"));
}

#[test]
fn parallel_counts_its_branches_states() {
    // Parallel (1) + branch 1: P1, P2 (2) + branch 2: P3 (1) + After (1) = 5.
    let asl = json!({"StartAt": "Par", "States": {
        "Par": {"Type": "Parallel", "Next": "After", "Branches": [
            {"StartAt": "P1", "States": {"P1": {"Type": "Pass", "Next": "P2"}, "P2": {"Type": "Pass", "End": true}}},
            {"StartAt": "P3", "States": {"P3": {"Type": "Pass", "Result": 3, "End": true}}}]},
        "After": {"Type": "Pass", "End": true}}});
    let r = counted(&asl, Some(json!({"v": 1})), &[]);
    assert_eq!(r.transitions, 5);
    assert_eq!(r.outcome, Outcome::Succeeded(json!([{"v": 1}, 3]).into()));
}

#[test]
fn inline_map_counts_every_iterations_states() {
    // Map (1) + 3 items x (Prep, Work) (6) = 7; the iterations themselves are free.
    let asl = json!({"StartAt": "M", "States": {
        "M": {"Type": "Map", "ItemsPath": "$.items", "End": true,
              "ItemSelector": {"x.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index"},
              "ItemProcessor": {"StartAt": "Prep", "States": {
                  "Prep": {"Type": "Pass", "Next": "Work"},
                  "Work": {"Type": "Task", "Resource": LAMBDA, "End": true}}}}}});
    let r = counted(&asl, Some(json!({"items": ["a", "b", "c"]})), &[]);
    assert_eq!((r.transitions, entered(&r, "Work").0), (7, 3));
    assert_eq!(
        r.outcome,
        Outcome::Succeeded(
            json!([{"x": "a", "i": 0}, {"x": "b", "i": 1}, {"x": "c", "i": 2}]).into()
        )
    );
}

#[test]
fn map_items_can_come_from_the_execution_input() {
    // P (Pass, replaces the data) + M (1) + 2 items x T (2) = 4.
    let asl = json!({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "Result": {}, "Next": "M"},
        "M": {"Type": "Map", "ItemsPath": "$$.Execution.Input.l", "End": true,
              "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": LAMBDA, "End": true}}}}}});
    let r = counted(&asl, Some(json!({"l": ["x", "y"]})), &[]);
    assert_eq!(r.transitions, 4);
    assert_eq!(r.outcome, Outcome::Succeeded(json!(["x", "y"]).into()));
}

#[test]
fn map_inside_parallel() {
    // Parallel (1) + branch 1: Map (1) + 2 items x Task (2) + branch 2: Pass (1) = 5.
    let asl = json!({"StartAt": "Par", "States": {
        "Par": {"Type": "Parallel", "End": true, "Branches": [
            {"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.l", "End": true,
                "Iterator": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": LAMBDA, "End": true}}}}}},
            {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}]}}});
    let r = counted(&asl, Some(json!({"l": [1, 2]})), &[]);
    assert_eq!(r.transitions, 5);
}

fn distributed(kind: &str) -> Value {
    json!({"StartAt": "D", "States": {
        "D": {"Type": "Map", "ItemsPath": "$.l", "End": true,
              "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": kind},
                  "StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "End": true}}}}}})
}

#[test]
fn distributed_map_bills_child_starts_and_children_by_type() {
    // Standard children: D (1) + 4 child starts (4) + 4 x (A, B) (8) = 13.
    let r = counted(
        &distributed("STANDARD"),
        Some(json!({"l": [1, 2, 3, 4]})),
        &[],
    );
    assert_eq!((r.transitions, r.states_entered), (13, 9));
    assert_eq!(r.children[&ExecutionType::Standard], 4);
    assert_eq!(r.child_transitions[&ExecutionType::Standard], 8);
    // Express children: D (1) + 4 child starts (4) = 5; their 8 states are billed by
    // duration, not as transitions.
    let r = counted(
        &distributed("EXPRESS"),
        Some(json!({"l": [1, 2, 3, 4]})),
        &[],
    );
    assert_eq!((r.transitions, r.states_entered), (5, 9));
    assert_eq!(r.child_transitions[&ExecutionType::Express], 8);
    // The Map's row carries its entry and the 4 starts; A and B bill nothing.
    let billed: Vec<u64> = r.states.iter().map(|s| s.transitions).collect();
    assert_eq!(billed, [5, 0, 0]);
    assert!(
        r.table().lines().all(|l| l.chars().count() <= 100),
        "{}",
        r.table()
    );
}

fn retrying(catch: bool) -> Value {
    let mut t = json!({"Type": "Task", "Resource": LAMBDA, "End": true,
        "Retry": [{"ErrorEquals": ["Lambda.TooManyRequestsException"], "MaxAttempts": 2}]});
    if catch {
        t["Catch"] =
            json!([{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "Handle"}]);
    }
    json!({"StartAt": "T", "States": {"T": t, "Handle": {"Type": "Pass", "End": true}}})
}

#[test]
fn retries_count_and_exhausted_retries_go_to_catch_or_fail() {
    // Fails once: T entered (1) + 1 retry (1) = 2.
    let r = counted(&retrying(false), None, &[("T", 1)]);
    assert_eq!((r.transitions, entered(&r, "T")), (2, (1, 1)));
    // Fails 5 times, MaxAttempts 2: T (1) + 2 retries (2), then Catch -> Handle (1) = 4.
    let r = counted(&retrying(true), Some(json!({"k": 1})), &[("T", 5)]);
    assert_eq!((r.transitions, r.retries), (4, 2));
    match &r.outcome {
        Outcome::Succeeded(v) => {
            assert_eq!(v.to_json()["k"], json!(1));
            assert_eq!(
                v.to_json()["err"]["Error"],
                json!("Lambda.TooManyRequestsException")
            );
        }
        o => panic!("{o:?}"),
    }
    // No Catch: T (1) + 2 retries (2) = 3 and the execution fails.
    let r = counted(&retrying(false), None, &[("T", 5)]);
    assert_eq!(r.transitions, 3);
    assert!(
        matches!(&r.outcome, Outcome::Failed { error, .. } if error == "Lambda.TooManyRequestsException")
    );
}

/// Drives `exec` to the end: grants at once, answers tasks with `task` (FIFO, one at
/// a time, after everything else: iterations pile up), and logs every action.
fn drive(
    exec: &mut Execution,
    mut task: impl FnMut(&Action, &Val) -> Result<Val, TaskError>,
) -> (Vec<Action>, usize) {
    let mut log = Vec::new();
    let mut tasks: VecDeque<Action> = VecDeque::new();
    let mut max_in_flight = 0;
    let mut buf = Vec::new();
    for _ in 0..10_000 {
        exec.poll(&mut buf);
        for a in buf.drain(..) {
            log.push(a.clone());
            match a {
                Action::Enter { cursor, .. } | Action::StartChild { cursor, .. } => {
                    exec.granted(cursor)
                }
                Action::Wait { cursor, .. } => exec.waited(cursor),
                Action::Invoke { .. } => tasks.push_back(a),
                Action::Choose { cursor, .. } => exec.chose(cursor, 0),
                Action::Done(_) => return (log, max_in_flight),
            }
        }
        max_in_flight = max_in_flight.max(tasks.len());
        if let Some(t) = tasks.pop_front() {
            let Action::Invoke { cursor, .. } = t else {
                unreachable!()
            };
            let r = task(&t, exec.task_input(cursor));
            exec.task_done(cursor, r);
        }
    }
    panic!("the execution did not finish");
}

#[test]
fn retry_intervals_back_off_and_are_capped() {
    // IntervalSeconds 2, BackoffRate 3, MaxDelaySeconds 10, MaxAttempts 4:
    // waits 2, 2x3 = 6, min(18, 10) = 10, min(54, 10) = 10 s.
    let asl = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": LAMBDA, "End": true,
        "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 2, "BackoffRate": 3, "MaxDelaySeconds": 10, "MaxAttempts": 4}]}}});
    let m = machine(&asl);
    let mut e = Execution::start(&m, json!({}).into());
    let (log, _) = drive(&mut e, |_, _| {
        Err(TaskError::new("Lambda.ServiceException", "x"))
    });
    let waits: Vec<u64> = log
        .iter()
        .filter_map(|a| match a {
            Action::Wait { ns, .. } => Some(ns / 1_000_000_000),
            _ => None,
        })
        .collect();
    assert_eq!(waits, [2, 6, 10, 10]);
    assert!(matches!(
        log.last(),
        Some(Action::Done(Outcome::Failed { .. }))
    ));
}

#[test]
fn full_jitter_waits_between_zero_and_the_interval() {
    use rand::{Rng, SeedableRng};
    let asl = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": LAMBDA, "End": true,
        "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 4, "JitterStrategy": "FULL", "MaxAttempts": 1}]}}});
    let m = machine(&asl);
    let mut e = Execution::start(&m, json!({}).into());
    let (log, _) = drive(&mut e, |_, _| Err(TaskError::new("E", "x")));
    assert!(log.contains(&Action::Wait {
        cursor: 0,
        ns: 4_000_000_000,
        full_jitter: true
    }));
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let draws: Vec<u64> = (0..1000)
        .map(|_| jittered(4_000_000_000, true, rng.random()))
        .collect();
    assert!(draws.iter().all(|d| *d <= 4_000_000_000));
    assert!(draws.iter().any(|d| *d < 1_000_000_000) && draws.iter().any(|d| *d > 3_000_000_000));
    assert_eq!(jittered(4_000_000_000, false, 0.3), 4_000_000_000);
}

#[test]
fn timeout_is_states_timeout_which_task_failed_does_not_match() {
    // The driver reports a task that ran past TimeoutSeconds as States.Timeout: the
    // States.TaskFailed retrier does not match it, the States.Timeout catcher does.
    // T (1) + Late (1) = 2, no retries.
    let asl = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": LAMBDA, "TimeoutSeconds": 3, "End": true,
              "Retry": [{"ErrorEquals": ["States.TaskFailed"]}],
              "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "Late"}]},
        "Late": {"Type": "Pass", "End": true}}});
    let m = machine(&asl);
    let mut e = Execution::start(&m, json!({}).into());
    let (log, _) = drive(&mut e, |a, _| match a {
        Action::Invoke {
            timeout_ns: Some(t),
            ..
        } if *t == 3_000_000_000 => Err(TaskError::new("States.Timeout", "ran 5 s")),
        other => panic!("expected a 3 s timeout: {other:?}"),
    });
    let enters = log
        .iter()
        .filter(|a| matches!(a, Action::Enter { .. }))
        .count();
    assert_eq!(enters, 2);
    assert!(!log
        .iter()
        .any(|a| matches!(a, Action::Enter { retry: true, .. })));
    assert!(
        matches!(log.last(), Some(Action::Done(Outcome::Succeeded(v))) if v.to_json()["Error"] == "States.Timeout")
    );
}

#[test]
fn max_concurrency_limits_iterations_in_flight() {
    let asl = |mc: u32| {
        json!({"StartAt": "M", "States": {"M": {"Type": "Map", "MaxConcurrency": mc, "End": true,
        "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": LAMBDA, "End": true}}}}}})
    };
    for (mc, want) in [(2, 2), (0, 5)] {
        let m = machine(&asl(mc));
        let mut e = Execution::start(&m, json!([1, 2, 3, 4, 5]).into());
        let (log, in_flight) = drive(&mut e, |a, input| match a {
            Action::Invoke { .. } => Ok(input.clone()),
            _ => unreachable!(),
        });
        assert_eq!(in_flight, want, "MaxConcurrency {mc}");
        assert_eq!(
            log.last(),
            Some(&Action::Done(Outcome::Succeeded(
                json!([1, 2, 3, 4, 5]).into()
            )))
        );
    }
}

#[test]
fn a_failed_iteration_fails_the_map_and_stops_the_others() {
    // Map (1) + item 0's T (1) fails at once; its siblings in flight are cancelled and
    // the Map's Catch goes to H (1): 3 states entered before the others' tasks answer.
    let asl = json!({"StartAt": "M", "States": {
        "M": {"Type": "Map", "MaxConcurrency": 1, "End": true,
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "H"}],
              "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": LAMBDA, "End": true}}}},
        "H": {"Type": "Pass", "End": true}}});
    let m = machine(&asl);
    let mut e = Execution::start(&m, json!([1, 2, 3]).into());
    let (log, _) = drive(&mut e, |_, _| Err(TaskError::new("Boom", "x")));
    let enters = log
        .iter()
        .filter(|a| matches!(a, Action::Enter { .. }))
        .count();
    assert_eq!(enters, 3);
}

#[test]
fn the_prime_video_machine_is_eight_transitions_and_ten_with_two_throttles() {
    // Convert (1) + Detect (1) + 5 detector iterations x Detector (5) + Aggregate (1) = 8;
    // Convert throttled twice: + 2 retries = 10.
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/prime-video.asl.json"
    );
    let m = Arc::new(super::load(std::path::Path::new(path)).expect("the shipped machine parses"));
    let r = count(&m, None, &BTreeMap::new()).unwrap();
    assert_eq!((r.transitions, r.states_entered, r.retries), (8, 8, 0));
    let plan = BTreeMap::from([(m.state_id("Convert").unwrap(), 2)]);
    let r = count(&m, None, &plan).unwrap();
    assert_eq!((r.transitions, r.retries), (10, 2));
}

#[test]
fn lambda_invoke_names_the_function_from_the_data() {
    let asl = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName.$": "$.fn", "Payload": {"k.$": "$.k"}}, "ResultSelector": {"out.$": "$.Payload.k"}, "End": true}}});
    let m = machine(&asl);
    let mut e = Execution::start(
        &m,
        json!({"fn": "arn:aws:lambda:us-east-1:1:function:detect-black:live", "k": 4}).into(),
    );
    let (log, _) = drive(&mut e, |a, input| match a {
        Action::Invoke {
            call: TaskCall::Lambda { function },
            ..
        } => {
            assert_eq!(&**function, "detect-black");
            Ok(input.clone())
        }
        other => panic!("{other:?}"),
    });
    assert_eq!(
        log.last(),
        Some(&Action::Done(Outcome::Succeeded(json!({"out": 4}).into())))
    );
}

/// The error for `asl` (a JSON text), checked to start with `t.asl.json:LINE:COL:`.
fn error_of(asl: &str) -> String {
    let e = parse("t.asl.json", asl).expect_err("should be refused");
    e.to_string()
}

#[test]
fn errors_name_line_column_and_state() {
    let text = "{\n  \"StartAt\": \"A\",\n  \"States\": {\n    \"A\": {\"Type\": \"Pass\", \"Nxt\": \"B\", \"End\": true}\n  }\n}";
    let e = error_of(text);
    assert!(
        e.starts_with("t.asl.json:4:27: state \"A\": unknown field `Nxt`"),
        "{e}"
    );
    assert!(e.contains("did you mean `Next`"), "{e}");

    let text =
        "{\"StartAt\": \"A\", \"States\": {\n  \"A\": {\"Type\": \"Pass\", \"Next\": \"B\"}}}";
    let e = error_of(text);
    assert!(
        e.starts_with("t.asl.json:2:33: state \"A\": Next \"B\" is not a state"),
        "{e}"
    );

    let e =
        error_of("{\"StartAt\": \"A\",\n \"States\": {\"A\": {\"Type\": \"Pass\" \"End\": true}}}");
    assert!(e.starts_with("t.asl.json:2:"), "{e}");
    assert!(e.contains("invalid JSON"), "{e}");
}

#[test]
fn unsupported_features_are_errors_naming_them() {
    let cases = [
        (
            r#"{"QueryLanguage": "JSONata", "StartAt": "A", "States": {"A": {"Type": "Succeed"}}}"#,
            "QueryLanguage \"JSONata\" is not supported",
        ),
        (
            r#"{"StartAt": "M", "States": {"M": {"Type": "Map", "End": true, "ItemReader": {}, "ItemProcessor": {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}}}}"#,
            "`ItemReader` is not supported",
        ),
        (
            r#"{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken", "End": true}}}"#,
            "`.waitForTaskToken`",
        ),
        (
            r#"{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "f", "P.$": "States.Nope($.a)"}, "End": true}}}"#,
            "unknown intrinsic function `States.Nope`",
        ),
        (
            r#"{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f", "Credentials": {}, "End": true}}}"#,
            "`Credentials` is not supported",
        ),
        (
            r#"{"StartAt": "W", "States": {"W": {"Type": "Wait", "Timestamp": "2026-01-01T00:00:00Z", "End": true}}}"#,
            "`Timestamp` is not supported",
        ),
        (
            r#"{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "End": true}}}"#,
            "integration `sqs:sendMessage` is not supported",
        ),
        (
            r#"{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}}"#,
            "needs `Parameters` with `FunctionName`",
        ),
        (
            r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}, "B": {"Type": "Parallel", "End": true, "Branches": [{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}]}}}"#,
            "must be unique",
        ),
        (
            r#"{"StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": [{"Variable": "$.t", "TimestampEquals": "x", "Next": "C"}]}}}"#,
            "`TimestampEquals` is not supported",
        ),
    ];
    let cases = cases.into_iter().chain([
        (
            r#"{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 99999999999999999999, "End": true}}}"#,
            "Seconds: expected a whole number",
        ),
        (
            r#"{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 99999999999, "End": true}}}"#,
            "expected a whole number from 0 to 31622400",
        ),
        (
            r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "OutputPath": "$$.State.Name", "End": true}}}"#,
            "OutputPath: expected a path into the data",
        ),
    ]);
    for (text, want) in cases {
        let e = error_of(text);
        assert!(e.starts_with("t.asl.json:1:"), "{e}");
        assert!(e.contains(want), "expected `{want}` in: {e}");
    }
}

/// A retried Task sends what its first attempt sent (it is not rendered again); a
/// state entered anew (here through its Catch, with the error in its input) is.
#[test]
fn a_retry_resends_the_first_attempt_and_a_new_entry_renders_again() {
    let asl = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
              "Parameters": {"FunctionName": "f", "Payload": {"k.$": "$.k", "all.$": "$"}},
              "ResultPath": null,
              "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 1, "MaxAttempts": 2}],
              "Catch": [{"ErrorEquals": ["Broken"], "ResultPath": "$.err", "Next": "T"}],
              "Next": "U"},
        "U": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
              "Parameters": {"FunctionName": "g", "Payload": {"k.$": "$.k"}}, "End": true}}});
    let m = machine(&asl);
    let mut e = Execution::start(&m, json!({"k": 4}).into());
    // T: throttled twice (retried), broken (caught, T entered anew), then done; U done.
    let mut outcomes = vec![
        Err("Throttled"),
        Err("Throttled"),
        Err("Broken"),
        Ok(()),
        Ok(()),
    ]
    .into_iter();
    let mut sent: Vec<(String, Value)> = Vec::new();
    let (log, _) = drive(&mut e, |a, input| {
        let Action::Invoke {
            call: TaskCall::Lambda { function },
            ..
        } = a
        else {
            panic!("{a:?}")
        };
        sent.push((function.to_string(), input.to_json()));
        match outcomes.next().expect("five tasks") {
            Ok(()) => Ok(input.clone()),
            Err(error) => Err(TaskError::new(error, "x")),
        }
    });
    let first = json!({"k": 4, "all": {"k": 4}});
    let caught = json!({"k": 4, "all": {"k": 4, "err": {"Cause": "x", "Error": "Broken"}}});
    let want = [
        ("f", first.clone()),
        ("f", first.clone()),
        ("f", first),
        ("f", caught),
        ("g", json!({"k": 4})),
    ];
    assert_eq!(sent.len(), want.len(), "{sent:?}");
    for ((f, input), (wf, winput)) in sent.iter().zip(want) {
        assert_eq!((f.as_str(), input), (wf, &winput));
    }
    assert!(matches!(
        log.last(),
        Some(Action::Done(Outcome::Succeeded(_)))
    ));
}

/// A driver whose functions echo their input takes it from the cursor, once.
#[test]
fn the_task_input_is_taken_once() {
    let asl =
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": LAMBDA, "End": true}}});
    let m = machine(&asl);
    let mut e = Execution::start(&m, json!({"a": 1}).into());
    let mut buf = Vec::new();
    e.poll(&mut buf);
    e.granted(0);
    buf.clear();
    e.poll(&mut buf);
    assert!(matches!(buf[..], [Action::Invoke { cursor: 0, .. }]));
    assert_eq!(e.take_task_input(0).to_json(), json!({"a": 1}));
    assert!(e.take_task_input(0).is_null());
}
