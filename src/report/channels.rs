//! Respondents per channel per group: how the responses of each group arrived. Each cell is
//! suppressed below the site's `min_cell`, as every other count of the report is.

use super::Ordered;
use crate::domain::Channel;
use crate::survey::Site;
use serde::Serialize;
use std::collections::BTreeMap;

/// One channel's respondents per group, in the site's group order.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct ChannelRow {
    /// `null` for responses stored before channels were recorded.
    pub channel: Option<Channel>,
    #[schema(inline)]
    pub by_group: ChannelCells,
}

/// Group → channel cell (an alias, so the schema derive sees a plain type).
pub type ChannelCells = Ordered<ChannelCell>;

#[derive(Debug, Clone, Copy, Serialize, PartialEq, utoipa::ToSchema)]
#[serde(untagged)]
pub enum ChannelCell {
    Counted { respondents: u64 },
    Suppressed { suppressed: bool },
}

/// The rows for `(channel, group) → respondents`: a row per channel that has any respondent,
/// in the order of `Channel::ALL`, then the responses without a channel.
pub fn channel_rows(
    site: &Site,
    respondents: &BTreeMap<(Option<Channel>, String), u64>,
) -> Vec<ChannelRow> {
    let min_cell = u64::from(site.config.min_cell);
    let channels = Channel::ALL.into_iter().map(Some).chain([None]);
    channels
        .filter(|c| respondents.iter().any(|((rc, _), n)| rc == c && *n > 0))
        .map(|channel| ChannelRow {
            channel,
            by_group: Ordered(
                site.config
                    .groups
                    .iter()
                    .map(|g| {
                        let n = respondents.get(&(channel, g.clone())).copied().unwrap_or(0);
                        let cell = if n < min_cell {
                            ChannelCell::Suppressed { suppressed: true }
                        } else {
                            ChannelCell::Counted { respondents: n }
                        };
                        (g.clone(), cell)
                    })
                    .collect(),
            ),
        })
        .collect()
}
