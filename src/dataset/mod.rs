//! The daily table, forecast-time alignment, embargo and train/test splits (paper §1.4,
//! pitfalls P1, P2, P7).
//!
//! The runner's order of work:
//!
//! 1. [`table::DailyTable::build`] joins b/a values, GNSS images and labels on the day index,
//!    after [`align::Alignment::check`] proved that every feature of row t is known by the end
//!    of day t (the forecast time; or flagged the table a nowcast) and that the target holds a
//!    day after it; days with missing inputs are dropped and counted.
//! 2. [`embargo::Embargo`] derives each time-ordered split's embargo (feature window + label
//!    reach + horizon); [`split::Split::new`] partitions the rows (`random`, `chronological`,
//!    `rolling`, `blocked`); [`split::Split::summary`] goes into every metric row.
//! 3. Per split, [`table::DailyTable::label_columns`] gives the targets, the last known label and
//!    the oracle from the label series fitted on that split's training events.
//! 4. Encoders, PCA and scalers are fitted on `split.train()` rows only ([`crate::encode`]).
//! 5. [`table::DailyTable::design`] assembles the modality's feature matrix.
//! 6. The controls of [`controls`] (interpolation baseline, day number only, shifted labels,
//!    time-shuffled modality) run beside the model.

pub mod align;
pub mod controls;
pub mod embargo;
pub mod split;
pub mod table;

pub use align::{Alignment, FeatureColumn, LOOK_AHEAD_FLAG, NOWCAST_FLAG, Support, Timing};
pub use embargo::{Embargo, embargo_reach_days};
pub use split::{Split, SplitKind, SplitSummary};
pub use table::{
    BaInput, DailyTable, ImageInput, LabelColumns, LabelInput, Modality, TableInputs, TableMeta,
};
