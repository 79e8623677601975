//! Checks that need more than one value: detector names, which sections a layout
//! kind takes, the service models' own rules, the catalog.

use std::collections::BTreeSet;
use std::path::Path;

use super::{at, Profile, Resolved, Scenario};
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
        Catalog::load(&path).map_err(|e| match e {
            // A catalog file that cannot be read: point at the scenario's line.
            crate::Error::Input(i) if i.line.is_none() => {
                crate::Error::Input(crate::InputError::at_path(
                    file,
                    text,
                    "catalog",
                    format!("catalog {}: {}", i.file, i.message),
                ))
            }
            other => other,
        })?
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

    // Workload: streams, or request arrivals.
    let w = &s.workload;
    let doc: toml::Table = toml::from_str(text)
        .map_err(|e| crate::Error::Input(crate::error::toml_error(file, text, &e)))?;
    let given = |key: &str| doc.get("workload").and_then(|t| t.get(key)).is_some();
    let (detectors, arrivals, items_per_batch) = match &w.requests {
        None => {
            if let Some((missing, _)) = super::STREAM_FIELDS
                .iter()
                .find(|(key, required)| *required && !given(key))
            {
                return Err(crate::Error::Input(crate::InputError::at_path(
                    file,
                    text,
                    "workload",
                    format!("missing field `{missing}` (a stream workload needs streams, frames_per_second, frame_size, detectors and chunk_seconds; or describe request arrivals in [workload.requests])"),
                )));
            }
            let (detectors, frames_per_chunk) = stream_workload(&s, file, text, duration)?;
            (detectors, None, frames_per_chunk)
        }
        Some(req) => {
            if let Some((key, _)) = super::STREAM_FIELDS.iter().find(|(key, _)| given(key)) {
                return Err(crate::Error::Input(crate::InputError::at_path(
                    file,
                    text,
                    &format!("workload.{key}"),
                    format!("a request workload ([workload.requests]) has no `{key}`: that field describes a stream source"),
                )));
            }
            if s.kernels == super::KernelsChoice::Real {
                return Err(crate::Error::Input(crate::InputError::at_path(
                    file,
                    text,
                    "kernels",
                    "the real detectors run on a stream's sample clip; a request workload's stages take their CPU time from `work`, `cpu` or the kernels' calibration: use kernels = \"sampled\" or \"auto\"",
                )));
            }
            if s.stages.is_empty() {
                return Err(err(
                    req.span(),
                    "a request workload needs its [[stages]] (the built-in stages are the video monitor's)".into(),
                ));
            }
            let arrivals = super::source::resolve(req, dir.unwrap_or(Path::new(".")), file, text)?;
            (Vec::new(), Some(arrivals), 1)
        }
    };

    // The pipeline.
    let pipeline = if s.stages.is_empty() {
        super::pipeline::Pipeline::video(
            &detectors,
            w.source_fps.0 / w.frames_per_second.get_ref().0,
            super::pipeline::default_aggregate_cpu(),
            super::pipeline::pcm_bytes(w.chunk_seconds.get_ref().0),
        )
    } else {
        let source = super::pipeline::Source {
            dir: dir.unwrap_or(Path::new(".")),
            file,
            text,
        };
        super::pipeline::resolve(
            &s.stages,
            items_per_batch,
            super::pipeline::pcm_bytes(w.chunk_seconds.get_ref().0),
            &source,
        )
        .map_err(|e| match e.positioned {
            Some(p) => p,
            None => err(e.span, e.message),
        })?
    };

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
        let cx = crate::layouts::CheckContext {
            catalog: &catalog,
            detectors: if arrivals.is_some() {
                pipeline.stages.len().saturating_sub(2)
            } else {
                detectors.len()
            },
            pipeline: &pipeline,
            file,
            text,
        };
        crate::layouts::check(l, &cx)?;
    }

    // The layouts' own state machines, read and bound to the stages now.
    let mut machines = std::collections::BTreeMap::new();
    for l in &s.layouts {
        if let Some(path) = &l.state_machine {
            let p = dir.map_or_else(
                || Path::new(path.get_ref()).to_path_buf(),
                |d| d.join(path.get_ref()),
            );
            let machine = crate::cloud::asl::load(&p)?;
            crate::layouts::serverless::check_binding(&machine, &pipeline)
                .map_err(|m| err(path.span(), format!("layout `{}`: {m}", l.name)))?;
            machines.insert(l.name.clone(), std::sync::Arc::new(machine));
        }
        if let Some(w) = &l.choice_weights {
            for (state, weights) in w.get_ref() {
                if weights.is_empty()
                    || weights.iter().any(|x| !(x.is_finite() && *x >= 0.0))
                    || weights.iter().sum::<f64>() <= 0.0
                {
                    return Err(err(w.span(), format!("layout `{}`: choice_weights for `{state}` need non-negative numbers, not all 0", l.name)));
                }
            }
        }
    }

    // Every labelled assumption names a value written in the file.
    if !s.assumptions.is_empty() {
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
        pipeline,
        machines,
        arrivals,
        duration,
        billing_date,
        catalog,
        file: file.to_string(),
        text: text.to_string(),
        scenario: s,
    })
}

/// Checks a stream workload: streams, profile, detectors, frames per chunk. Returns
/// the detectors and the frames of a chunk.
fn stream_workload(
    s: &Scenario,
    file: &str,
    text: &str,
    duration: crate::sim::Time,
) -> Result<(Vec<Kernel>, u64)> {
    let err = |span: std::ops::Range<usize>, msg: String| at(file, text, span, msg);
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

    Ok((detectors, frames_per_chunk.round() as u64))
}
