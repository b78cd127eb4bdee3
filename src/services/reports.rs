//! The report of a site: the counts the store answers, summed into a tally, then the pure
//! report (`report::build_report`), the follow-up figures and, when asked, the trend.

use super::{Chorus, ServiceError};
use crate::domain::time::parse_instant_ms;
use crate::domain::Channel;
use crate::domain::TaskTally;
use crate::report::channels::channel_rows;
use crate::report::follow_ups::queue_rows;
use crate::report::trend::{build_trend, Interval};
use crate::report::{build_report, Report, Tally};
use crate::store::{CountQuery, FollowUpCountQuery};
use crate::survey::Site;
use std::collections::BTreeMap;

/// What a report covers: `since` inclusive, `until` exclusive (milliseconds since the epoch),
/// and per which period, if any.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportFilter {
    pub survey: Option<String>,
    pub since_ms: Option<u64>,
    pub until_ms: Option<u64>,
    /// Only responses that arrived by this channel (`?channel=`).
    pub channel: Option<Channel>,
    pub interval: Option<Interval>,
}

impl ReportFilter {
    /// Checks `survey`, `since` and `until` against the site; an empty value counts as absent
    /// (as an HTML form sends it).
    pub fn parse(
        site: &Site,
        survey: Option<&str>,
        since: Option<&str>,
        until: Option<&str>,
    ) -> Result<ReportFilter, ServiceError> {
        fn present(v: Option<&str>) -> Option<&str> {
            v.map(str::trim).filter(|s| !s.is_empty())
        }
        let survey = present(survey).map(str::to_string);
        if let Some(s) = &survey {
            if site.survey(s).is_none() {
                return Err(ServiceError::SurveyNotFound(s.clone()));
            }
        }
        let instant = |field: &str, v: Option<&str>| {
            present(v)
                .map(|v| parse_instant_ms(v).map_err(|m| ServiceError::invalid_query(field, m)))
                .transpose()
        };
        let since_ms = instant("since", since)?;
        let until_ms = instant("until", until)?;
        if let (Some(s), Some(u)) = (since_ms, until_ms) {
            if u <= s {
                return Err(ServiceError::invalid_query(
                    "until",
                    "must be later than since",
                ));
            }
        }
        Ok(ReportFilter {
            survey,
            since_ms,
            until_ms,
            channel: None,
            interval: None,
        })
    }

    /// The same filter for one channel (`kiosk`, `qr`, …; empty is every channel).
    pub fn with_channel(mut self, channel: Option<&str>) -> Result<ReportFilter, ServiceError> {
        self.channel = channel
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<Channel>()
                    .map_err(|m| ServiceError::invalid_query("channel", m))
            })
            .transpose()?;
        Ok(self)
    }

    /// The same filter per `interval` (`week` or `month`; empty is none).
    pub fn with_interval(mut self, interval: Option<&str>) -> Result<ReportFilter, ServiceError> {
        self.interval = interval
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<Interval>()
                    .map_err(|m| ServiceError::invalid_query("interval", m))
            })
            .transpose()?;
        Ok(self)
    }
}

/// The report of a site for a filter: the one call the API, the pages and the review make.
pub async fn site_report(
    chorus: &Chorus,
    site: &Site,
    filter: &ReportFilter,
) -> Result<Report, ServiceError> {
    let query = CountQuery {
        site: site.id().to_string(),
        survey: filter.survey.clone(),
        since_ms: filter.since_ms,
        until_ms: filter.until_ms,
        by_day: filter.interval.is_some(),
        channel: filter.channel,
    };
    let rows = chorus.store.report_counts(&query).await?;
    let mut tally = Tally::default();
    let mut by_day: BTreeMap<u64, Tally> = BTreeMap::new();
    let mut by_channel: BTreeMap<(Option<Channel>, String), u64> = BTreeMap::new();
    for row in &rows {
        let k = &row.key;
        let (n, tagged) = (row.counts.respondents, &row.counts.tagged);
        tally.add(&k.survey, k.survey_version, &k.group, n, tagged);
        *by_channel.entry((k.channel, k.group.clone())).or_default() += n;
        if let Some(day) = k.day {
            let day_tally = by_day.entry(day).or_default();
            day_tally.add(&k.survey, k.survey_version, &k.group, n, tagged);
        }
    }
    let mut report = build_report(site, &tally);
    report.channels = channel_rows(site, &by_channel);
    let queues = chorus
        .store
        .follow_up_counts(&FollowUpCountQuery::of(&query))
        .await?;
    let by_queue: BTreeMap<String, TaskTally> =
        queues.into_iter().map(|q| (q.queue, q.counts)).collect();
    report.follow_ups = queue_rows(site, &by_queue);
    if let Some(interval) = filter.interval {
        let order: Vec<String> = report.barriers.iter().map(|b| b.code.clone()).collect();
        report.trend = Some(build_trend(site, interval, &by_day, &order));
    }
    Ok(report)
}

/// Respondents per group for every day that has any, in day order.
pub async fn respondents_by_day(
    chorus: &Chorus,
    site: &str,
) -> Result<BTreeMap<u64, BTreeMap<String, u64>>, ServiceError> {
    let rows = chorus
        .store
        .report_counts(&CountQuery {
            site: site.to_string(),
            by_day: true,
            ..CountQuery::default()
        })
        .await?;
    let mut out: BTreeMap<u64, BTreeMap<String, u64>> = BTreeMap::new();
    for row in rows {
        if let Some(day) = row.key.day {
            *out.entry(day)
                .or_default()
                .entry(row.key.group)
                .or_default() += row.counts.respondents;
        }
    }
    Ok(out)
}
