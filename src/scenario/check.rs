//! Checks that need more than one value: detector names, which sections a layout
//! kind takes, the service models' own rules, the catalog.

use std::collections::BTreeSet;
use std::path::Path;

use toml::Spanned;

use super::{at, LayoutKind, LayoutSpec, Profile, Resolved, Scenario};
use crate::cloud::QuotaEra;
use crate::error::Result;
use crate::kernels::Kernel;
use crate::pricing::Catalog;

/// Checks `s` (parsed from `text`, the content of `file`) and resolves its parts.
pub fn resolve(s: Scenario, file: &str, text: &str, dir: Option<&Path>) -> Result<Resolved> {
    let err = |span: std::ops::Range<usize>, msg: String| at(file, text, span, msg);

    let duration = s.duration.get_ref().0;
    if duration == 0 {
        return Err(err(
            s.duration.span(),
            "duration must be longer than 0".into(),
        ));
    }
    super::bounds::check(&s, file, text)?;

    let catalog = if s.catalog.ends_with(".toml") {
        let path = dir.map_or_else(
            || Path::new(&s.catalog).to_path_buf(),
            |d| d.join(&s.catalog),
        );
        Catalog::load(&path)?
    } else {
        Catalog::by_id(&s.catalog).ok_or_else(|| {
            crate::Error::Input(crate::InputError::at_path(
                file,
                text,
                "catalog",
                format!("unknown catalog `{}`: the embedded one is `aws-us-east-1`; or give a catalog file path ending in .toml", s.catalog),
            ))
        })?
    };

    // Workload.
    let w = &s.workload;
    if *w.streams.get_ref() == 0 {
        return Err(err(w.streams.span(), "streams must be at least 1".into()));
    }
    match w.profile {
        Profile::Daily => match &w.hourly_weights {
            None => {
                return Err(err(
                    w.streams.span(),
                    "a daily profile needs `hourly_weights` (24 numbers in 0..=1)".into(),
                ))
            }
            Some(hw)
                if hw.get_ref().len() != 24
                    || hw
                        .get_ref()
                        .iter()
                        .any(|x| !(x.is_finite() && (0.0..=1.0).contains(x))) =>
            {
                return Err(err(
                    hw.span(),
                    format!(
                        "hourly_weights needs 24 numbers in 0..=1, got {} values",
                        hw.get_ref().len()
                    ),
                ));
            }
            _ => {}
        },
        Profile::Ramp if w.ramp_from.is_none() => {
            return Err(err(
                w.streams.span(),
                "a ramp profile needs `ramp_from` (streams at the start)".into(),
            ))
        }
        _ => {}
    }
    let mut detectors = Vec::new();
    let mut seen = BTreeSet::new();
    for name in w.detectors.get_ref() {
        let Some(k) = Kernel::from_name(name).filter(|k| k.is_detector()) else {
            let names: Vec<&str> = Kernel::DETECTORS.iter().map(|k| k.name()).collect();
            let hint = crate::error::nearest(name, &names)
                .map(|n| format!(" (did you mean `{n}`?)"))
                .unwrap_or_default();
            return Err(err(
                w.detectors.span(),
                format!(
                    "unknown detector `{name}`{hint}; expected some of: {}",
                    names.join(", ")
                ),
            ));
        };
        if !seen.insert(k) {
            return Err(err(
                w.detectors.span(),
                format!("detector `{name}` is listed twice"),
            ));
        }
        detectors.push(k);
    }
    if detectors.is_empty() {
        return Err(err(
            w.detectors.span(),
            "at least one detector is needed".into(),
        ));
    }
    if w.frames_per_second.get_ref().0 > w.source_fps.0 {
        return Err(err(
            w.frames_per_second.span(),
            format!(
                "frames_per_second ({}) cannot exceed source_fps ({})",
                w.frames_per_second.get_ref().0,
                w.source_fps.0
            ),
        ));
    }
    let frames_per_chunk = w.frames_per_second.get_ref().0 * w.chunk_seconds.get_ref().0;
    if (frames_per_chunk - frames_per_chunk.round()).abs() > 1e-9 || frames_per_chunk < 1.0 {
        return Err(err(
            w.chunk_seconds.span(),
            format!(
                "chunk_seconds × frames_per_second must be a whole number of frames ≥ 1, got {frames_per_chunk:.4}"
            ),
        ));
    }
    if crate::sim::secs(w.chunk_seconds.get_ref().0) > duration {
        return Err(err(
            w.chunk_seconds.span(),
            format!(
                "chunk_seconds ({} s) cannot be longer than the duration",
                w.chunk_seconds.get_ref().0
            ),
        ));
    }

    // Layouts.
    if s.layouts.is_empty() {
        return Err(crate::Error::Input(crate::InputError::at_path(
            file,
            text,
            "layouts",
            "at least one [[layouts]] is needed",
        )));
    }
    let mut names = BTreeSet::new();
    for l in &s.layouts {
        if !names.insert(l.name.as_str()) {
            return Err(err(
                l.kind.span(),
                format!("two layouts are named `{}`", l.name),
            ));
        }
        check_layout(l, &catalog, detectors.len(), file, text)?;
    }

    // Every labelled assumption names a value written in the file.
    if !s.assumptions.is_empty() {
        let doc: toml::Table = toml::from_str(text)
            .map_err(|e| crate::Error::Input(crate::error::toml_error(file, text, &e)))?;
        for path in s.assumptions.keys() {
            if crate::sweep::get(&doc, path).is_none() {
                let span = text
                    .find(&format!("\"{path}\""))
                    .map_or(0..0, |i| i..i + path.len() + 2);
                return Err(err(span, format!("assumption `{path}` names no value in this file; write the value it labels (e.g. `{}`) in the file", path.rsplit('.').next().unwrap_or(path))));
            }
        }
    }

    let billing_date = s.billing_date.clone().unwrap_or_else(|| match s.quota_era {
        QuotaEra::Y2023 => "2023-03-22".into(),
        QuotaEra::Current => "2025-11-01".into(),
    });

    Ok(Resolved {
        frame_size: w.frame_size.0,
        detectors,
        duration,
        billing_date,
        catalog,
        file: file.to_string(),
        text: text.to_string(),
        scenario: s,
    })
}

/// A section that the layout's kind does not use.
fn stray<T>(
    section: &Option<Spanned<T>>,
    name: &str,
    l: &LayoutSpec,
    file: &str,
    text: &str,
) -> Result<()> {
    match section {
        Some(s) => Err(at(
            file,
            text,
            s.span(),
            format!(
                "layout `{}`: a {} layout has no `{name}` section",
                l.name,
                l.kind.get_ref().as_str()
            ),
        )),
        None => Ok(()),
    }
}

fn check_layout(
    l: &LayoutSpec,
    catalog: &Catalog,
    detectors: usize,
    file: &str,
    text: &str,
) -> Result<()> {
    let kind = *l.kind.get_ref();
    let model = |span: std::ops::Range<usize>, r: std::result::Result<(), String>| {
        r.map_err(|m| at(file, text, span, format!("layout `{}`: {m}", l.name)))
    };
    if kind.is_serverless() {
        stray(&l.ec2, "ec2", l, file, text)?;
        stray(&l.fargate, "fargate", l, file, text)?;
        stray(&l.clones, "clones", l, file, text)?;
        for (f, role) in [
            (&l.converter, "converter"),
            (&l.detector, "detector"),
            (&l.aggregator, "aggregator"),
        ] {
            if let Some(f) = f {
                // Named by its section: the model's default name is `function`.
                let mut cfg = f.get_ref().clone();
                cfg.name = role.into();
                model(f.span(), cfg.check())?;
            }
        }
        check_concurrency(l, catalog, detectors, file, text)?;
        if let Some(s3) = &l.s3 {
            model(s3.span(), s3.get_ref().check())?;
        }
        if kind == LayoutKind::LambdaDirect {
            stray(&l.step_functions, "step_functions", l, file, text)?;
            stray(&l.task_retry, "task_retry", l, file, text)?;
        }
    } else {
        for (s, n) in [
            (&l.converter, "converter"),
            (&l.detector, "detector"),
            (&l.aggregator, "aggregator"),
        ] {
            stray(s, n, l, file, text)?;
        }
        stray(&l.account, "account", l, file, text)?;
        stray(&l.s3, "s3", l, file, text)?;
        stray(&l.s3_prefixes, "s3_prefixes", l, file, text)?;
        stray(&l.step_functions, "step_functions", l, file, text)?;
        stray(&l.task_retry, "task_retry", l, file, text)?;
        match kind {
            LayoutKind::Fargate => {
                stray(&l.ec2, "ec2", l, file, text)?;
                stray(&l.clones, "clones", l, file, text)?;
                if let Some(f) = &l.fargate {
                    model(f.span(), f.get_ref().check())?;
                }
            }
            _ => {
                stray(&l.fargate, "fargate", l, file, text)?;
                if kind == LayoutKind::Monolith {
                    stray(&l.clones, "clones", l, file, text)?;
                }
                if let Some(e) = &l.ec2 {
                    let cfg = e.get_ref();
                    model(e.span(), catalog.instance(&cfg.instance_type).map(|_| ()))?;
                    if !(0.0..=1.0).contains(&cfg.savings_plan_discount) {
                        return Err(at(
                            file,
                            text,
                            e.span(),
                            format!(
                            "layout `{}`: savings_plan_discount must be between 0 and 1, got {}",
                            l.name, cfg.savings_plan_discount
                        ),
                        ));
                    }
                    if let crate::cloud::Ec2Scaling::TargetTracking {
                        target_cpu,
                        min,
                        max,
                        ..
                    } = &cfg.scaling
                    {
                        if !(*target_cpu > 0.0 && *target_cpu <= 1.0) || min > max || *max == 0 {
                            return Err(at(file, text, e.span(), format!(
                                "layout `{}`: target tracking needs target_cpu in (0, 1] and 1 <= max, min <= max",
                                l.name
                            )));
                        }
                    }
                }
                if let Some(c) = &l.clones {
                    if *c.get_ref() < 1 || *c.get_ref() as usize > detectors {
                        return Err(at(
                            file,
                            text,
                            c.span(),
                            format!(
                                "layout `{}`: clones must be between 1 and the number of detectors ({detectors})",
                                l.name
                            ),
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}

/// Lambda concurrency a serverless layout can run with: a function that can never
/// get a concurrent execution would be retried for ever (the run would not end).
fn check_concurrency(
    l: &LayoutSpec,
    catalog: &Catalog,
    detectors: usize,
    file: &str,
    text: &str,
) -> Result<()> {
    let limit = match l.account.as_ref().and_then(|a| {
        a.get_ref()
            .concurrency_limit
            .map(|n| (n, a.span()))
    }) {
        Some((0, span)) => {
            return Err(at(
                file,
                text,
                span,
                format!(
                    "layout `{}`: concurrency_limit must be at least 1: with 0 no Lambda function can ever run",
                    l.name
                ),
            ))
        }
        Some((n, _)) => n,
        None => catalog.quotas.lambda_concurrent_executions.value,
    };
    // Each role's section, and how many functions it configures.
    let roles = [
        (&l.converter, "converter", 1u64),
        (&l.detector, "detector", detectors as u64),
        (&l.aggregator, "aggregator", 1),
    ];
    let mut reserved = 0u64;
    let mut unreserved_functions = false;
    let mut last_span = None;
    for (section, role, count) in roles {
        match section
            .as_ref()
            .and_then(|s| s.get_ref().reserved_concurrency.map(|r| (r, s.span())))
        {
            Some((0, span)) => {
                return Err(at(
                    file,
                    text,
                    span,
                    format!(
                        "layout `{}`: the {role}'s reserved_concurrency is 0, which throttles every invocation, so the pipeline would never finish; leave it out or reserve at least 1",
                        l.name
                    ),
                ))
            }
            Some((r, span)) => {
                reserved += r as u64 * count;
                last_span = Some(span);
            }
            None => unreserved_functions = true,
        }
    }
    if let Some(span) = last_span {
        let limit = limit as u64;
        if reserved > limit || (unreserved_functions && reserved >= limit) {
            return Err(at(
                file,
                text,
                span,
                format!(
                    "layout `{}`: reserved concurrency adds up to {reserved} (a detector's applies to each of its {detectors} functions), {} the account's concurrency limit of {limit}{}",
                    l.name,
                    if reserved > limit { "more than" } else { "all of" },
                    if reserved > limit {
                        ""
                    } else {
                        ", leaving none for the functions without a reservation"
                    }
                ),
            ));
        }
    }
    Ok(())
}
