//! The daily table, causal alignment and train/test splits (paper §1.4, pitfalls P1, P7).
//!
//! The runner's order of work:
//!
//! 1. [`table::DailyTable::build`] joins b/a values, GNSS images and labels on the day index,
//!    after [`align::Alignment::check`] proved that every feature ends before its label begins
//!    (or flagged the label as a nowcast); days with missing inputs are dropped and counted.
//! 2. [`split::Split::new`] partitions the rows (`random`, `chronological`, `blocked` with an
//!    embargo); [`split::Split::summary`] goes into every metric row.
//! 3. Encoders, PCA and scalers are fitted on `split.train()` rows only ([`crate::encode`]).
//! 4. [`table::DailyTable::design`] assembles the modality's feature matrix.
//! 5. The controls of [`controls`] (interpolation baseline, day number only, shifted labels,
//!    time-shuffled modality) run beside the model.

pub mod align;
pub mod controls;
pub mod split;
pub mod table;

pub use align::{Alignment, FeatureColumn, NOWCAST_FLAG, Support};
pub use split::{Split, SplitKind, SplitSummary};
pub use table::{BaInput, DailyTable, ImageInput, LabelInput, Modality, TableInputs, TableMeta};
