//! The `quakelab` command line: argument parsing and hand-over to the library.
//!
//! Nothing here computes; each subcommand resolves its arguments into the library's checked
//! parameter types and calls one library function, then writes the result.

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use tracing::{info, warn};

use jiff::civil::Date;

use crate::catalog::source::write_synthetic_catalog;
use crate::catalog::{
    self, Catalog, CatalogFilter, CatalogSource, EventTypes, LoadOptions, MIN_MAGNITUDE, Region,
    TimeReading,
};
use crate::decode::pfn::eval::{EvalOptions, run_eval};
use crate::decode::pfn::pretrain::{PretrainConfig, PretrainOptions, pretrain};
use crate::decode::pfn::prior::PriorConfig;
use crate::decode::pfn::prior::show::{ShowOptions, show as prior_show};
use crate::decode::{DecodeFiles, DecodeOptions, DecoderConfig, QuantileLevels, decode_csv};
use crate::device::Device;
use crate::encode::vit::{Vit, VitConfig, VitOutput, preprocess};
use crate::encode::{BatchShape, ImageBatch};
use crate::experiment::config::{self, Layers};
use crate::experiment::launcher::slurm::{self, TaskState};
use crate::experiment::launcher::{LocalLauncher, SlurmLauncher};
use crate::experiment::runner;
use crate::experiment::sweep::{self, Axis};
use crate::geomag::labels::{AftershockRule, ClassParams, day_classes};
use crate::gnss::StationSet;
use crate::gnss::grid::{GridOrigin, GridSpec, ValidGridSpec, parse_grid_size};
use crate::gnss::gridding::{MemoryLimit, grid_stations_within};
use crate::gnss::stack::{ImageStack, StackFormat};
use crate::io::catalog::{ColumnMapping, ReadOptions, Time24h, UtcOffset, write_comcat};
use crate::io::geomag::{GeomagSeries, read_iaga2002, series_from_iaga, write_series_csv};
use crate::io::geonet::{GeonetMapping, read_geonet_dir};
use crate::io::npy;
use crate::io::stations::read_station_list;
use crate::io::tenv3::{Tenv3Options, read_tenv3_dir};
use crate::models::{self, FetchAction, Fetcher, Registry, Store, store::FileCheck};
use crate::period::{MAX_DAYS, Period, parse_date};
use crate::progress;
use crate::report::classification::{
    self as classification_report, is_classification_run, render_classification,
};
use crate::report::figure;
use crate::report::gnss as gnss_report;
use crate::report::paper;
use crate::report::precursor::{AroundEventsSettings, around_events};
use crate::report::results::render_run;
use crate::report::study as study_report;
use crate::report::table::{Table, number, optional_number};
use crate::seismicity::bvalue::{
    BEstimator, BValueParams, DifferenceMle, McChoice, ValidBValueParams, WindowSpec, WindowTally,
    sliding_b_values,
};
use crate::seismicity::decluster::{
    DeclusterMethod, Declusterer, GardnerKnopoffParams, ReasenbergParams, Rows, WindowTable,
    decluster_period,
};
use crate::seismicity::kde::{Bandwidth, KdeParams, LabelScale, kde_labels};
use crate::seismicity::labels::BoundaryCorrection;
use crate::seismicity::mc::{McMethodKind, McSettings, completeness_magnitude};
use crate::seismicity::weichert::{DAYS_PER_YEAR, read_completeness_table, weichert};
use crate::synth::etas::MAX_SIMULATED_EVENTS;
use crate::synth::gnss::{Overwrite, check_network_output};
use crate::synth::{
    GnssReport, Incompleteness, Scenario, simulate_network, simulate_scenario, write_network,
};
use crate::track::{
    RunStatus, fail_runs_on_interrupt, read_run, record_rewritten, scan_runs, sync,
};

/// quakelab: reproducible experiments on earthquake catalogs and GNSS series.
///
/// Every command reads real formats (USGS ComCat CSV, generic CSV) or a named synthetic scenario
/// (`--catalog synthetic:japan`), and writes CSV, Markdown and figures. Days follow one
/// convention everywhere: a period is [start, end) in UTC calendar days and day 0 is `start`.
#[derive(Debug, Parser)]
#[command(name = "quakelab", version, about, long_about, max_term_width = 100)]
pub struct Cli {
    /// More log output (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run an experiment file: data, features, labels, every split x feature set x decoder,
    /// tracked under results/ (and MLflow when tracking.mlflow_uri is set), with its report.
    ///
    /// Layers: built-in defaults < FILE < --set a.b=c < QUAKELAB_* environment variables
    /// (QUAKELAB_FEATURES__SEISMICITY__WINDOW_DAYS=64 sets features.seismicity.window_days).
    ///
    /// Several files run one after the other, each as its own run (the README's main run:
    /// quakelab run experiments/paper.toml experiments/vgg12_geomag.toml); --set applies to each.
    ///
    /// A fit made before with the same data, settings, seed and quakelab binary is read back
    /// from the fit cache (results/cache/fits) instead of fitted again, so a run repeated or
    /// given one more decoder fits only what is new; --set tracking.fit_cache=false fits
    /// everything. Each split's PCA of the GNSS images is read back the same way
    /// (results/cache/pca), like the other stages under results/cache.
    ///
    /// Example: quakelab run experiments/paper.toml --set features.seismicity.window_days=64
    Run {
        /// The experiment files (TOML).
        #[arg(required = true, num_args = 1..)]
        files: Vec<PathBuf>,
        /// Override a setting, KEY=VALUE (VALUE read as TOML; repeatable).
        /// decoders.KIND.KEY=VALUE sets one decoder's setting (decoders.random_forest.max_depth=6),
        /// decoders.INDEX.KEY=VALUE the setting of the decoder at that position.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
    /// Run the cartesian product of axes over an experiment file, skipping configs that
    /// already finished on the same data (resumable), and write a summary table and plot.
    ///
    /// A config whose run finished with other input data (an edited catalog file, a changed
    /// scenario) runs again, and the first line says how many did.
    ///
    /// With --launcher slurm the pending configs become one Slurm job array instead: the sweep
    /// directory (results/sweeps/NAME/TIME) holds configs/I.toml and the sweep.sbatch script,
    /// and `quakelab sweep status DIR --wait` follows the tasks and writes the summary.
    ///
    /// Example: quakelab sweep experiments/paper.toml
    /// --axis features.seismicity.window_days=32,64,128 --axis labels.bandwidth=scott,30,90
    /// --axis decoders.random_forest.max_depth=4,8
    ///
    /// Example: quakelab sweep experiments/paper.toml --axis seed=1,2,3,4
    /// --launcher slurm --partition short --time 00:30:00 --cpus-per-task 4 --max-parallel 2
    Sweep(SweepArgs),
    /// Render runs' tables and figures again from their stored results; with --paper, also
    /// assemble paper/README.md from the latest finished run of each directory given.
    Report {
        /// Run directories (results/<experiment>/<run-id>), or experiment or sweep directories
        /// (results/<experiment>) for all their finished runs.
        dirs: Vec<PathBuf>,
        /// Write paper/README.md with the tables and figures of these runs and their provenance.
        #[arg(long)]
        paper: bool,
    },
    /// Inspect experiment files.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Push a run that could not reach its MLflow server (marked unsynced) to the server.
    Sync {
        /// The run directory.
        run_dir: PathBuf,
        /// The MLflow tracking URI (default: the one the run was configured with).
        #[arg(long)]
        uri: Option<String>,
    },
    /// Fit any decoder on a CSV table and predict another: writes row,prediction.
    ///
    /// Every column but the target is a numeric feature; row is the 0-based index of the test
    /// file's data rows. For xgboost, lightgbm, catboost and tabpfn an empty or NaN feature cell
    /// is a missing value; every decoder.KEY of a booster is the library's own parameter, and
    /// tabpfn's follow the official package (n_estimators, softmax_temperature, preprocess,
    /// fingerprint_feature, feature_shift, y_transform, output).
    ///
    /// Example: quakelab decode --decoder ridge --train train.csv --test test.csv --target y
    /// --set decoder.alpha=0.5 --out preds.csv
    ///
    /// Example: quakelab decode --decoder xgboost --train train.csv --test test.csv --target y
    /// --set decoder.max_depth=4 --set decoder.eta=0.1 --set decoder.num_boost_round=150
    /// --out preds.csv
    ///
    /// Example (TabPFN v2 from its checkpoint, with its predictive distribution): quakelab
    /// decode --decoder tabpfn --train train.csv --test test.csv --target y --set
    /// decoder.weights=tabpfn-v2-regressor.ckpt --quantiles 0.05,0.5,0.95 --out preds.csv
    Decode {
        /// The decoder (persistence, moving_average, climatology, oracle_persistence, ridge,
        /// random_forest, pfn, tabpfn, and xgboost, lightgbm, catboost: cargo features of the
        /// default build). The baselines read a named column: label_known,
        /// label_known_mean_<N>d, label_now, or decoder.column. pfn runs the built-in
        /// quakelab-pfn-s, or decoder.weights=FILE from quakelab pfn pretrain. tabpfn reads its
        /// weights from the model store (quakelab models fetch tabpfn-v2-reg) or
        /// decoder.weights=FILE.
        #[arg(long)]
        decoder: String,
        /// Training table (CSV with a header).
        #[arg(long)]
        train: PathBuf,
        /// Test table (CSV with a header; the target column may be absent).
        #[arg(long)]
        test: PathBuf,
        /// The target column.
        #[arg(long)]
        target: String,
        /// Validation table for early stopping (laid out like the training table), used by a
        /// booster with decoder.early_stopping_rounds set.
        #[arg(long)]
        valid: Option<PathBuf>,
        /// Decoder settings, decoder.KEY=VALUE (repeatable).
        #[arg(long = "set", value_name = "decoder.KEY=VALUE")]
        set: Vec<String>,
        /// Output CSV (row,prediction); may not be the training or test file.
        #[arg(long)]
        out: PathBuf,
        /// The seed of the decoder's random draws (bootstrap samples, feature draws).
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Also write the predictive distribution, for a decoder that gives one (tabpfn, the
        /// forest, the quantile boosters): mean, median and these quantile levels, e.g.
        /// 0.05,0.5,0.95.
        #[arg(long, value_delimiter = ',', value_name = "LEVELS")]
        quantiles: Option<Vec<f64>>,
        /// Where the decoder computes (tabpfn): cpu, cuda, vulkan or libtorch (all but cpu need
        /// their cargo feature).
        #[arg(long, default_value = "cpu")]
        device: Device,
    },
    /// Generate synthetic data for a named scenario (written in the real formats).
    #[command(subcommand)]
    Synth(SynthCommand),
    /// Compute feature series from a catalog.
    #[command(subcommand)]
    Features(FeaturesCommand),
    /// Compute daily activity labels from a catalog.
    #[command(subcommand)]
    Labels(LabelsCommand),
    /// Decluster a catalog: which events are mainshocks (or independent), which are their
    /// fore- and aftershocks.
    ///
    /// Writes the selected events (those in the period, with M >= --mc when given) in time
    /// order, with the columns
    /// time,latitude,longitude,depth,magnitude,mainshock,cluster,cluster_size.
    /// `mainshock` is true for an event the declustered catalog keeps (a
    /// cluster's mainshock, an independent event included, as SeismoStats flags it) and false
    /// for a fore- or aftershock it removes; `cluster` is the id (from 1) of the cluster the
    /// event belongs to, an independent event being a cluster of one, and `cluster_size` its
    /// number of events. With --declustered only the mainshock rows are written: the
    /// declustered catalog itself, readable as a catalog (--catalog FILE). The counts (events,
    /// mainshocks, removed) go to stderr.
    ///
    /// gardner-knopoff (Gardner & Knopoff 1974, as SeismoStats' GardnerKnopoffType1) takes
    /// the largest events first and removes the events inside each one's space-time window;
    /// gardner-knopoff numbers the clusters in that order (cluster 1 is the largest event's).
    /// reasenberg (Reasenberg 1985, as ZMAP's declus) links events in time order through
    /// interaction zones; its clusters are numbered in the order of their first event.
    ///
    /// Example: quakelab decluster --catalog synthetic:japan --start 2009-01-01
    /// --end 2024-01-01 --method gardner-knopoff --window gardner-knopoff --out declustered.csv
    Decluster(Box<DeclusterArgs>),
    /// Run a study and write its tables and figures.
    #[command(subcommand)]
    Study(StudyCommand),
    /// GNSS displacement images (paper §1.1).
    #[command(subcommand)]
    Gnss(GnssCommand),
    /// Geomagnetic records (papers.md §B).
    #[command(subcommand)]
    Geomag(GeomagCommand),
    /// Encode images with a pretrained image model.
    #[command(subcommand)]
    Encode(EncodeCommand),
    /// Draw figures from inputs.
    #[command(subcommand)]
    Render(RenderCommand),
    /// Pretrained models: fetch them into the local store, list what is installed, inspect a
    /// checkpoint.
    ///
    /// The store is $QUAKELAB_MODELS, else $XDG_CACHE_HOME/quakelab/models, else
    /// ~/.cache/quakelab/models; a model lives in <store>/<hub id>/ (config.json and weights, a
    /// save_pretrained folder). $QUAKELAB_HUB_URL replaces https://huggingface.co (a mirror).
    ///
    /// Example: quakelab models fetch vit-b16-in21k
    ///
    /// Example: quakelab models list
    ///
    /// Example: quakelab models info ~/.cache/quakelab/models/google/vit-base-patch16-224-in21k
    #[command(subcommand)]
    Models(ModelsCommand),
    /// quakelab's own prior-fitted network: the synthetic tasks it is pretrained on.
    #[command(subcommand)]
    Pfn(PfnCommand),
}

#[derive(Debug, Subcommand)]
enum PfnCommand {
    /// The task priors: seeded generators of synthetic regression tasks.
    #[command(subcommand)]
    Prior(PfnPriorCommand),
    /// Pretrain a network on the task prior, as a tracked run.
    ///
    /// CONFIG names the network (name, never carrying "TabPFN"), its seed and sections
    /// [pfn.model] (emsize, nhead, nlayers, mlp_hidden, features_per_group, num_buckets,
    /// embedding_seed), [pfn.prior] (as for pfn prior show), [pfn.optim] (weight_decay, beta1,
    /// beta2, epsilon, clip_norm, schedule = { peak, warmup_steps, total_steps, final_ratio }),
    /// [pfn.pretrain] (steps, batch_tasks, checkpoint_every, border_batches, log_every, device)
    /// and [tracking] (results_dir, mlflow_uri, experiment_name). The docs of
    /// quakelab::decode::pfn::pretrain say what each step does.
    ///
    /// Writes RESULTS/NAME/RUN_ID/: run.json, metrics (train_loss and learning_rate per step,
    /// tasks_per_second, tokens_per_second and seconds_per_step every log_every steps),
    /// checkpoints/step-NNNNNN.safetensors and state-NNNNNN.bpk every checkpoint_every steps
    /// and at the end (checkpoints/latest names the last complete one), NAME.safetensors (the
    /// file the decoder loads), train_loss.csv and train_loss.png.
    ///
    /// Example: quakelab pfn pretrain experiments/pfn/quakelab-pfn-s.toml --device cuda
    ///
    /// Example: quakelab pfn pretrain experiments/pfn/quakelab-pfn-s.toml --resume
    /// results/quakelab-pfn-s/RUN_ID
    Pretrain {
        /// The pretraining file.
        config: PathBuf,
        /// Continue from a run directory's last complete checkpoint, or from one of its
        /// checkpoints/step-NNNNNN.safetensors; the file must train the same network on the
        /// same tasks (steps may grow).
        #[arg(long, value_name = "RUN_DIR|CHECKPOINT")]
        resume: Option<PathBuf>,
        /// Steps in all (pfn.pretrain.steps).
        #[arg(long)]
        steps: Option<u64>,
        /// cpu, cuda or vulkan (pfn.pretrain.device; a GPU needs a build with its cargo
        /// feature).
        #[arg(long)]
        device: Option<String>,
        /// The run store (tracking.results_dir).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Score a pretrained network against ridge, a random forest and XGBoost, task by task.
    ///
    /// The tasks: held-out tasks of the prior (task i from the stream pfn.prior.task.i of
    /// --seed, which pretraining never draws from), Friedman #1-3 (--friedman-tables tables of
    /// each, noise 1, 125 and 0.1 as Breiman 1996), and any --table files (numeric CSV, the
    /// paper's fusion table say), split chronologically. Friedman and file tables train on
    /// their first 80 % of rows. Every model fits each task's training rows and is scored on
    /// its test rows (RMSE, R²) and ranked by RMSE within the task (1 the best, ties share the
    /// mean rank).
    ///
    /// Writes OUT/tasks.csv (task,family,n_train,n_test,n_features,model,rmse,r2,rank) and
    /// OUT/summary.csv (family,model,tasks,mean_rank,wins,mean_r2; family `all` over every
    /// task), and prints the summary.
    ///
    /// Example (the built-in quakelab-pfn-s): quakelab pfn eval --out results/pfn-eval
    ///
    /// Example: quakelab pfn eval --weights results/quakelab-pfn-s/RUN_ID/quakelab-pfn-s.safetensors
    /// --config experiments/pfn/quakelab-pfn-s.toml --out results/pfn-eval
    ///
    /// Example (the paper experiment's fusion table): quakelab run experiments/paper.toml --set
    /// tracking.feature_tables=true, then quakelab pfn eval --weights net.safetensors --table
    /// results/paper/RUN_ID/feature_tables/chronological-train-0.7/fusion.csv --target label
    /// --test-column test --out results/pfn-eval
    Eval {
        /// The network's checkpoint (NAME.safetensors from quakelab pfn pretrain) that the
        /// model pfn runs; without it, the built-in quakelab-pfn-s.
        #[arg(long, value_name = "FILE")]
        weights: Option<PathBuf>,
        /// The pretraining file whose [pfn.prior] the held-out tasks come from (default: the
        /// default prior).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Seed of the held-out tasks, the Friedman tables and the fits.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Held-out prior tasks.
        #[arg(long, default_value_t = 64)]
        prior_tasks: usize,
        /// Tables of each Friedman function.
        #[arg(long, default_value_t = 5)]
        friedman_tables: usize,
        /// Rows per Friedman table.
        #[arg(long, default_value_t = 250)]
        friedman_rows: usize,
        /// A numeric CSV table to add as a task (repeatable); needs --target.
        #[arg(long = "table", value_name = "FILE")]
        tables: Vec<PathBuf>,
        /// The target column of the --table files.
        #[arg(long)]
        target: Option<String>,
        /// A 0/1 column of the --table files marking their test rows (the column is not a
        /// feature); without it they split chronologically. A run's feature tables
        /// (tracking.feature_tables = true) have one, `test`.
        #[arg(long, value_name = "COLUMN", requires = "target")]
        test_column: Option<String>,
        /// The models, comma-separated: pfn (the network) and decoder kinds.
        #[arg(long, value_delimiter = ',', default_values_t = crate::decode::pfn::eval::DEFAULT_MODELS.map(String::from))]
        models: Vec<String>,
        /// The output directory.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum PfnPriorCommand {
    /// Sample tasks from the priors and write them as a table and a figure.
    ///
    /// Draws TASKS tasks of one shared size, as the pretraining loop batches them: rows and
    /// features drawn from pfn.prior.rows and pfn.prior.features (or fixed by --rows and
    /// --features), each task's prior (mlp, gp or seismic) drawn by pfn.prior.weights. Task j
    /// is drawn from the stream named pfn.prior.batch.0.task.j of the seed, so the same seed
    /// and settings give the same tasks.
    ///
    /// Writes OUT/tasks.csv (task, kind, row, split, x0..x{F-1}, y; split is train or test)
    /// and OUT/prior_tasks.png (a panel per task: y against x0, training rows in blue, test
    /// rows in orange).
    ///
    /// FILE holds a [pfn.prior] section (other sections are ignored); without --config the
    /// defaults apply. Its keys, with their defaults (ranges are [min, max], inclusive):
    /// weights = { mlp = 1, gp = 1, seismic = 1 }; rows = [32, 512] (at most 1024 while gp has
    /// a weight); features = [1, 10];
    /// mlp: depth = [1, 5], width = [4, 32], activations = [tanh, relu, sine, identity, abs],
    /// noise = [0.001, 0.3], edge_dropout = [0.0, 0.7], uniform_causes = 0.5;
    /// gp: kernels = [rbf, matern32, matern52], linear = 0.2, length_scale = [0.2, 5.0],
    /// output_scale = [0.5, 2.0], noise = [0.001, 0.3], uniform_inputs = 0.5;
    /// seismic: ar = [0.8, 0.99], horizon = [1, 30], max_lag = 30, window = [3, 90],
    /// noise_columns = 0.2, counts = 0.5, count_mean = [0.5, 20.0].
    /// The docs of quakelab::decode::pfn::prior say what each one draws.
    ///
    /// Example file: [pfn.prior] weights = { mlp = 2.0, gp = 1.0, seismic = 1.0 }
    /// gp.length_scale = [0.5, 2.0] (one key a line).
    ///
    /// Example: quakelab pfn prior show --tasks 9 --out results/prior
    ///
    /// Example: quakelab pfn prior show --config pfn.toml --seed 3 --rows 200 --features 4
    /// --out results/prior
    Show {
        /// A TOML file with a [pfn.prior] section.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// The seed of the task stream.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// How many tasks to draw.
        #[arg(long, default_value_t = 9)]
        tasks: usize,
        /// Rows per task (training and test); drawn from pfn.prior.rows when absent.
        #[arg(long)]
        rows: Option<usize>,
        /// Features per task; drawn from pfn.prior.features when absent.
        #[arg(long)]
        features: Option<usize>,
        /// The output directory.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum ModelsCommand {
    /// Download a known model's files into the store and verify their size and SHA-256.
    ///
    /// Files already there and verified are kept; a download goes to FILE.part and is renamed
    /// only once it verifies, so a failed download leaves nothing a loader would read. The
    /// known models (id, or alias):
    /// google/vit-base-patch16-224-in21k (vit-b16-in21k), Apache-2.0;
    /// Prior-Labs/TabPFN-v2-reg (tabpfn-v2-reg), Prior Labs License ("Built with
    /// PriorLabs-TabPFN").
    ///
    /// Without network: download the files named by `quakelab models fetch` (or listed on the
    /// model's hub page) elsewhere, copy them into <store>/<hub id>/, and run `quakelab models
    /// list` to verify them.
    ///
    /// Example: quakelab models fetch google/vit-base-patch16-224-in21k
    Fetch {
        /// The model: a hub id or alias from quakelab's registry.
        name: String,
        /// Download every file again, replacing files that are there (also ones that do not
        /// verify).
        #[arg(long)]
        force: bool,
    },
    /// List the models in the store: every file's size and SHA-256, and whether it matches
    /// quakelab's registry.
    ///
    /// Hashes are cached beside each file (FILE.sha256, keyed by size and modification time),
    /// so only new or changed files are read.
    ///
    /// Example: quakelab models list
    List,
    /// Print a checkpoint's config.json (for a model folder), format, parameter count and
    /// every tensor (name, shape, dtype), sorted by name.
    ///
    /// FILE_OR_DIR is a weights file (safetensors or a PyTorch checkpoint, recognised by
    /// content) or a model folder (config.json with model.safetensors, pytorch_model.bin or a
    /// single other checkpoint file).
    ///
    /// Example: quakelab models info model.safetensors
    Info {
        /// A weights file or a model folder.
        file_or_dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print the fully resolved config with the source of every value.
    Show {
        /// The experiment file (TOML).
        file: PathBuf,
        /// Override a setting, KEY=VALUE (repeatable; decoders.KIND.KEY=VALUE for one
        /// decoder's setting).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
enum GnssCommand {
    /// Grid daily GNSS displacements into images (paper eqs. 3-17).
    ///
    /// Each day t gets V(t) = r(t+1) - r(t-1) in mm at every station observed on both days,
    /// interpolated with normalised Gaussian weights (sigma = SIGMA_CELLS x the latitude spacing,
    /// in metres on a 6,371 km sphere) and the first-order gradient correction for N and E.
    /// Writes a NumPy .npy array of shape (days, rows, cols, 3), f32, channels N, E, U in mm;
    /// row i is at latitude LAT0 + i*dlat (row 0 is the south), column j at LON0 + j*dlon.
    /// A day without any displacement is all NaN; the summary counts empty days and the NaN
    /// share, and warns when most of the stack is NaN. A .qlimg output is quakelab's compact
    /// image stack (with grid metadata and a content hash); other extensions are refused.
    /// The memory is estimated first and a gridding beyond --max-memory-gb refused.
    ///
    /// Example: quakelab gnss grid --tenv3 DIR --start 2009-01-01 --end 2024-01-01
    /// --region 123,148,22,46 --grid 50x50 --sigma-cells 8 --out images.npy
    Grid {
        #[command(flatten)]
        stations: StationArgs,
        #[command(flatten)]
        period: PeriodArgs,
        #[command(flatten)]
        grid: GridArgs,
        /// Output file: .npy (NumPy) or .qlimg (quakelab's compact stack).
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum GeomagCommand {
    /// Convert INTERMAGNET IAGA-2002 files (minute or second data) to quakelab's series CSV.
    ///
    /// The CSV has the columns station,time, then the files' reported components under their
    /// own letters (e.g. H,D,Z,F or X,Y,Z,F); times are RFC 3339 UTC, and IAGA's missing-value
    /// codes (88888, 99999) become empty fields. Several files of one station are joined in
    /// time order (they must not overlap); files of different stations give rows of each
    /// station, one station after the other. All files must report the same components.
    ///
    /// Example: quakelab geomag read bou20141101vmin.min bou20141102vmin.min --out series.csv
    Read {
        /// IAGA-2002 files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The series CSV to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// The VGG-12 study's event classes (papers.md §B): events with M > --min-magnitude within
    /// --radius-km of --centre, north or south by k-means (k = 2) on their epicentres, above
    /// or at most --threshold; the map of day d gets the class of the largest event in
    /// (d, d + --horizon-days].
    ///
    /// Writes DIR/events.csv (the labelled events, the paper's Table 3), DIR/classes.csv and
    /// DIR/classes.md (Table 4: class, direction, magnitude, events, maps) and prints Table 4
    /// with the k-means centres. Aftershocks (events within 7 days and 50 km after a larger
    /// one) are left out, as selects the paper's 18 events from CENC, unless
    /// --keep-aftershocks.
    ///
    /// Example: quakelab geomag classes --catalog cenc_sichuan_box_2012-2024.csv
    /// --utc-offset +08:00 --start 2022-02-01 --end 2023-01-01 --out results/classes
    Classes {
        #[command(flatten)]
        catalog: Box<CatalogArgs>,
        #[command(flatten)]
        period: PeriodArgs,
        /// The study area's centre, LAT,LON.
        #[arg(long, default_value = "28.10,102.16", value_parser = parse_lat_lon)]
        centre: (f64, f64),
        /// Events farther than this from the centre are left out, in km.
        #[arg(long, default_value_t = 400.0)]
        radius_km: f64,
        /// Events count with M above this.
        #[arg(long, default_value_t = 3.0)]
        min_magnitude: f64,
        /// "Above" is M above this.
        #[arg(long, default_value_t = 4.0)]
        threshold: f64,
        /// The horizon H in days.
        #[arg(long, default_value_t = 7)]
        horizon_days: usize,
        /// Keep the aftershocks of larger events.
        #[arg(long)]
        keep_aftershocks: bool,
        /// The seed of the k-means restarts (used above 100 distinct epicentres).
        #[arg(long, default_value_t = 2022)]
        kmeans_seed: u64,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
    },
}

/// `LAT,LON` in degrees.
fn parse_lat_lon(text: &str) -> std::result::Result<(f64, f64), String> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let [lat, lon] = parts[..] else {
        return Err(format!("`{text}`: expected LAT,LON"));
    };
    let number = |s: &str| {
        s.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| format!("`{s}` is not a number"))
    };
    Ok((number(lat)?, number(lon)?))
}

#[derive(Debug, Subcommand)]
enum EncodeCommand {
    /// Run a ViT (Hugging Face ViTModel) on images and write its embeddings as .npy (float32).
    ///
    /// --model is a save_pretrained folder (config.json and model.safetensors or
    /// pytorch_model.bin), or `random` for a seeded random initialisation of --config (ViT-B/16
    /// without it). --pixels is an N x C x H x W float32 array used exactly as given; --images
    /// is a GNSS image stack (.qlimg, or .npy days x rows x cols x 3 as `quakelab gnss grid`
    /// writes), scaled by 1/S and clipped to [-1, 1] (S the --scale-percentile percentile of
    /// |displacement| over all its days, or --scale in mm), then resized bilinearly to the
    /// model's image_size, channels N, E, U as R, G, B. A day with a missing value is refused.
    ///
    /// --out is N x hidden, or N x tokens x hidden for last_hidden_state.
    ///
    /// Example: quakelab encode vit --model models/google/vit-base-patch16-224-in21k
    /// --images images.npy --output mean --out embeddings.npy
    Vit(EncodeVitArgs),
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["pixels", "images"])))]
struct EncodeVitArgs {
    /// The model: a save_pretrained folder or weights file, or `random`.
    #[arg(long)]
    model: String,
    /// With --model random: the config.json of the architecture [default: ViT-B/16].
    #[arg(long)]
    config: Option<PathBuf>,
    /// With --model random: the seed of the initialisation.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Pixels, N x C x H x W (.npy, float32 or float64), used as given.
    #[arg(long)]
    pixels: Option<PathBuf>,
    /// A GNSS image stack (.qlimg or .npy days x rows x cols x 3, mm).
    #[arg(long)]
    images: Option<PathBuf>,
    /// With --images: the percentile of |displacement| over all days that maps to 1
    /// [default: 99.5].
    #[arg(long, conflicts_with = "scale")]
    scale_percentile: Option<f64>,
    /// With --images: the displacement (mm) that maps to 1.
    #[arg(long)]
    scale: Option<f32>,
    /// What to write per image: last_hidden_state, pooler, mean or cls.
    #[arg(long, default_value = "mean")]
    output: VitOutput,
    /// Output array (.npy, float32).
    #[arg(long)]
    out: PathBuf,
    /// Where the model runs: cpu, cuda, vulkan or libtorch (all but cpu need their cargo
    /// feature).
    #[arg(long, default_value = "cpu")]
    device: Device,
    /// Images per forward pass.
    #[arg(long, default_value = "16")]
    batch_size: NonZeroUsize,
}

#[derive(Debug, Subcommand)]
enum RenderCommand {
    /// The paper's Fig. 1: N, E and U displacement images for chosen days.
    ///
    /// At most 31 days and 500x500 cells per map; a day with no value is drawn blank, with a
    /// warning.
    ///
    /// Example: quakelab render gnss --geonet ../shared/data/gnss/geonet18
    /// --days 2011-03-10,2011-03-11,2011-03-12 --out fig1.png
    Gnss {
        #[command(flatten)]
        stations: StationArgs,
        /// Days to draw, comma separated (YYYY-MM-DD).
        #[arg(long, value_delimiter = ',', required = true)]
        days: Vec<String>,
        #[command(flatten)]
        grid: GridArgs,
        /// Output image (.png or .svg).
        #[arg(long)]
        out: PathBuf,
    },
}

/// Where the station series come from.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
struct StationArgs {
    /// A directory of NGL .tenv3 files, one per station.
    #[arg(long)]
    tenv3: Option<PathBuf>,
    /// A directory of GEONET daily displacement CSVs with its stations.csv.
    #[arg(long)]
    geonet: Option<PathBuf>,
}

/// The image grid.
#[derive(Debug, Args)]
struct GridArgs {
    /// Region LON0,LON1,LAT0,LAT1 (default: the paper's Japan box).
    #[arg(long, value_parser = parse_region, default_value = "123,148,22,46")]
    region: Region,
    /// Grid size ROWSxCOLS.
    #[arg(long, default_value = "50x50")]
    grid: String,
    /// Gaussian sigma in grid spacings (the paper's 8).
    #[arg(long, default_value_t = 8.0)]
    sigma_cells: f64,
    /// Put grid points at cell centres instead of the paper's cell corners.
    #[arg(long)]
    centres: bool,
    /// Refuse a gridding whose estimated memory (image stack, weights, displacements, work
    /// buffers) exceeds this many GiB [default: 8].
    #[arg(long, value_name = "GIB")]
    max_memory_gb: Option<f64>,
}

#[derive(Debug, Subcommand)]
enum SynthCommand {
    /// Simulate an ETAS catalog and write it as ComCat CSV (DIR/catalog.csv).
    ///
    /// Example: quakelab synth catalog --scenario japan --years 2009:2024 --out data/japan
    Catalog {
        /// A built-in scenario name (japan, sichuan) or a path to a scenario TOML file.
        #[arg(long, default_value = "japan")]
        scenario: String,
        /// Years to simulate as FIRST:END, END exclusive (2009:2024 is 2009-01-01 to 2024-01-01).
        #[arg(long, value_parser = parse_years)]
        years: (i16, i16),
        /// Override the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Refuse a scenario expected to simulate more events than this (burn-in and events
        /// outside the region included).
        #[arg(long, default_value_t = MAX_SIMULATED_EVENTS)]
        max_events: usize,
        /// Override the scenario's detection model (`etas.incompleteness`): `helmstetter` hides
        /// small events in the coda of large ones (Helmstetter et al. 2006); catalog.csv then
        /// holds the detected events and catalog_true.csv every simulated one.
        #[arg(long, value_enum)]
        incompleteness: Option<Incompleteness>,
        /// Output directory; catalog.csv is written there.
        #[arg(long)]
        out: PathBuf,
    },
    /// Simulate a GNSS network for a scenario and write one .tenv3 file per station.
    ///
    /// Coseismic offsets and postseismic relaxation come from the catalog's large events; the
    /// scenario may plant precursory slow slip before some of them (the `null` scenario plants
    /// none). The planted precursors are listed in DIR/precursors.csv.
    ///
    /// Example: quakelab synth gnss --scenario japan --catalog synthetic:japan --out data/gnss
    Gnss {
        /// A built-in scenario name (japan, null, sichuan) or a path to a scenario TOML file.
        #[arg(long, default_value = "japan")]
        scenario: String,
        #[command(flatten)]
        catalog: Box<CatalogArgs>,
        /// First day, YYYY-MM-DD.
        #[arg(long, default_value = "2009-01-01")]
        start: String,
        /// The day after the last, YYYY-MM-DD.
        #[arg(long, default_value = "2024-01-01")]
        end: String,
        /// Take the station layout from an NGL station list (DataHoldings.txt) instead of
        /// sampling stations over land.
        #[arg(long)]
        stations_from: Option<PathBuf>,
        /// Output directory for the .tenv3 files, written whole or not at all. It must be new,
        /// empty, or a previous `synth gnss` output (which is replaced whole).
        #[arg(long)]
        out: PathBuf,
        /// Replace --out even if it is a non-empty folder of something else (its contents are
        /// deleted).
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
enum FeaturesCommand {
    /// Sliding-window Gutenberg-Richter b and a values (paper eqs. 19-20).
    ///
    /// Writes one row per window end day with the columns
    /// date,n_events,b_value,b_std,a_value,mc,missing. A window that starts before the period
    /// or holds fewer than --min-events events has empty values and a reason in `missing`.
    ///
    /// Example: quakelab features seismicity --catalog synthetic:japan --start 2009-01-01
    /// --end 2024-01-01 --mc 3.0 --window-days 128 --step-days 1 --out ba.csv
    Seismicity {
        #[command(flatten)]
        catalog: CatalogArgs,
        #[command(flatten)]
        period: PeriodArgs,
        #[command(flatten)]
        b: BValueArgs,
        /// Window length in days (day d's window is the W days ending with d, inclusive).
        #[arg(long, default_value_t = 128, conflicts_with = "window_events")]
        window_days: usize,
        /// Days between window end days.
        #[arg(long, default_value_t = 1)]
        step_days: usize,
        /// Use windows of a fixed number of events instead of fixed days.
        #[arg(long)]
        window_events: Option<usize>,
        /// Events between window ends, with --window-events.
        #[arg(long, default_value_t = 1, requires = "window_events")]
        step_events: usize,
        /// Output CSV file.
        #[arg(long)]
        out: PathBuf,
    },
    /// The completeness magnitude Mc of the events in a period, by one method, with the numbers
    /// it was chosen from.
    ///
    /// Writes OUT with the header `method,mc` and one row (mc empty when b-stability or ks find
    /// no candidate that passes), and beside it a diagnostics table named after OUT with
    /// `.diagnostics.csv` in place of its extension (mc.csv gives mc.diagnostics.csv). Its
    /// columns: maxc `magnitude,count` (the frequency-magnitude distribution); gft `mc,n,b,a,r`
    /// (r the fit residual); b-stability `mc,n,b,b_std,b_avg,diff_b` (stable where diff_b <=
    /// 1); ks `mc,n,b,ks_distance,p_value`; one row per bin (maxc) or per candidate Mc tested.
    ///
    /// maxc, b-stability and ks compute what SeismoStats 1.0.1's estimate_mc_maxc,
    /// estimate_mc_b_stability and estimate_mc_ks compute (b by Tinti & Mulargia's discrete
    /// MLE); ks draws its own seeded simulations. b-stability and ks need magnitudes binned to
    /// --bin-width.
    ///
    /// Example: quakelab features mc --catalog synthetic:japan --start 2009-01-01 --end
    /// 2024-01-01 --method maxc --correction 0.2 --out mc.csv
    ///
    /// Example: quakelab features mc --catalog events.csv --start 2020-01-01 --end 2021-01-01
    /// --method ks --ks-seed 7 --ks-simulations 2000 --out mc.csv
    Mc {
        #[command(flatten)]
        catalog: CatalogArgs,
        #[command(flatten)]
        period: PeriodArgs,
        /// The Mc method.
        #[arg(long, value_enum)]
        method: McMethodKind,
        /// maxc: added to the modal bin centre (Woessner & Wiemer 2005: 0.2).
        #[arg(long, default_value_t = 0.2, allow_negative_numbers = true)]
        correction: f64,
        /// Magnitude bin width (SeismoStats' delta_m, and maxc's fmd_bin).
        #[arg(long, default_value_t = 0.1)]
        bin_width: f64,
        /// b-stability: the magnitude range above a candidate whose b values are averaged.
        #[arg(long, default_value_t = 0.5)]
        stability_range: f64,
        /// b-stability and ks: the candidate Mc values, comma separated (default: every bin
        /// from the smallest magnitude up).
        #[arg(long, value_delimiter = ',')]
        candidates: Option<Vec<f64>>,
        /// ks: a candidate passes when its p-value is at least this.
        #[arg(long, default_value_t = 0.1)]
        ks_p_value: f64,
        /// ks: simulated catalogs per candidate.
        #[arg(long, default_value_t = 10_000)]
        ks_simulations: usize,
        /// ks: seed of the simulations.
        #[arg(long, default_value_t = 0)]
        ks_seed: u64,
        /// Output CSV file (`method,mc`).
        #[arg(long)]
        out: PathBuf,
    },
    /// Weichert's (1980) b value and annual rate for a catalog whose completeness magnitude
    /// falls over time.
    ///
    /// COMPLETENESS is a CSV file with the header `start,mc`: from each start date (inside the
    /// period) on, every event at or above that Mc is recorded; a later period must have a
    /// lower Mc. Each event belongs to the period of the highest Mc at or below its magnitude
    /// and counts from that period's start. Magnitudes must be binned to --bin-width. Writes
    /// OUT with the columns b,b_std,rate,rate_std,a,lowest_edge,n_used,n_below,n_before (rate:
    /// events per Julian year at or above lowest_edge, the lowest used bin's lower edge;
    /// n_below and n_before: events left out below the lowest Mc or before their period).
    ///
    /// Example: quakelab features weichert --catalog events.csv --start 1900-01-01 --end
    /// 2020-01-01 --completeness completeness.csv --out weichert.csv
    Weichert {
        #[command(flatten)]
        catalog: CatalogArgs,
        #[command(flatten)]
        period: PeriodArgs,
        /// The completeness table (`start,mc`).
        #[arg(long)]
        completeness: PathBuf,
        /// Magnitude bin width.
        #[arg(long, default_value_t = 0.1)]
        bin_width: f64,
        /// Output CSV file.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum LabelsCommand {
    /// Daily activity labels: a Gaussian KDE of event times integrated over each day (paper §1.3).
    ///
    /// Writes the columns date,label.
    ///
    /// Example: quakelab labels kde --catalog synthetic:japan --start 2009-01-01 --end 2024-01-01
    /// --mc 3.0 --bandwidth scott --scale none --out labels.csv
    Kde {
        #[command(flatten)]
        catalog: CatalogArgs,
        #[command(flatten)]
        period: PeriodArgs,
        /// Completeness magnitude: events with M >= MC are used.
        #[arg(long, default_value_t = 3.0)]
        mc: f64,
        /// Kernel bandwidth: scott, silverman, or a number of days.
        #[arg(long, default_value = "scott", value_parser = parse_bandwidth)]
        bandwidth: Bandwidth,
        /// Scale of the labels.
        #[arg(long, value_enum, default_value_t = LabelScale::None)]
        scale: LabelScale,
        /// Output CSV file.
        #[arg(long)]
        out: PathBuf,
    },
    /// The paper's Fig. 12, tested: the labels of every kind (kde_centred, kde_causal,
    /// counts_ahead) around each large event, and whether any causal label rises before it.
    ///
    /// Every label is fitted on the whole period. Writes DIR/around_events.csv (one row per
    /// event, kind and day offset; the label and the label divided by its mean over days
    /// -365..-180) and DIR/around_events.png, and prints per event and kind the mean over the 90
    /// days before the event (only label days known before the event day) against that baseline.
    ///
    /// Example: quakelab labels around-events --catalog synthetic:japan --start 2009-01-01
    /// --end 2024-01-01 --mc 3.0 --min-magnitude 7 --out results/around_events
    AroundEvents {
        #[command(flatten)]
        catalog: CatalogArgs,
        #[command(flatten)]
        period: PeriodArgs,
        /// Completeness magnitude: events with M >= MC are labelled.
        #[arg(long, default_value_t = 3.0)]
        mc: f64,
        /// Events with M >= this are the large events.
        #[arg(long, default_value_t = 7.0)]
        min_magnitude: f64,
        /// Days drawn before each event.
        #[arg(long, default_value_t = 730)]
        days_before: usize,
        /// Days drawn after each event.
        #[arg(long, default_value_t = 365)]
        days_after: usize,
        /// Kernel bandwidth of the KDE kinds: scott, silverman, or a number of days.
        #[arg(long, default_value = "scott", value_parser = parse_bandwidth)]
        bandwidth: Bandwidth,
        /// Edge correction of the KDE kinds.
        #[arg(long, value_enum, default_value_t = BoundaryCorrection::Renormalise)]
        boundary: BoundaryCorrection,
        /// H of counts_ahead: the label of day d counts the events of days d..d+H-1.
        #[arg(long, default_value_t = 7)]
        horizon_days: usize,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum StudyCommand {
    /// The paper's Table 1: stationarity of the b series for several window lengths.
    ///
    /// Writes DIR/window_study.csv (window_days,cv,adf_p,kpss_p,stationary,naive_mae,n_valid,
    /// then the b-value significance test of Mirwald et al. 2024: b_sig_n_m,b_sig_mac,b_sig_mu,
    /// b_sig_std,b_sig_p,b_sig_missing), DIR/window_study.md, Fig. 2
    /// (DIR/fig2_ba_series_wN.png for each window) and Fig. 3 (DIR/fig3_kde_labels.png).
    ///
    /// The significance test cuts the events at or above Mc into disjoint subsamples of b_sig_n_m
    /// events (the mean count of a window of that length) and asks whether neighbouring b values
    /// are more alike than estimation noise allows: b_sig_p below 0.05 says b varies on that
    /// scale; a large b_sig_p says the b series is consistent with a constant b.
    ///
    /// Example: quakelab study windows --catalog synthetic:japan --start 2009-01-01
    /// --end 2024-01-01 --mc 3.0 --windows 32,64,128,192,256 --out results/window_study
    Windows {
        #[command(flatten)]
        catalog: CatalogArgs,
        #[command(flatten)]
        period: PeriodArgs,
        #[command(flatten)]
        b: BValueArgs,
        /// Window lengths in days, comma separated.
        #[arg(long, value_delimiter = ',', default_value = "32,64,128,192,256")]
        windows: Vec<usize>,
        /// Kernel bandwidth of the Fig. 3 labels: scott, silverman, or a number of days.
        #[arg(long, default_value = "scott", value_parser = parse_bandwidth)]
        bandwidth: Bandwidth,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
    },
}

/// Where the catalog comes from and how to read it.
#[derive(Debug, Args)]
struct CatalogArgs {
    /// A catalog CSV file (ComCat, or a generic CSV whose columns are recognised or given with
    /// --columns), or `synthetic:NAME` for a scenario catalog generated on first use.
    #[arg(long)]
    catalog: String,
    /// Column mapping for a generic CSV:
    /// time=COL,latitude=COL,longitude=COL,magnitude=COL[,depth=COL][,type=COL].
    /// time=DATE+TIME joins separate date and time columns (JMA) with a space before parsing.
    #[arg(long)]
    columns: Option<String>,
    /// strftime format of the time column (default: ISO 8601 with or without `T`/`Z`); with
    /// time=DATE+TIME it reads the two fields joined by a space, e.g. "%Y/%m/%d %H:%M:%S".
    #[arg(long)]
    time_format: Option<String>,
    /// Offset of the catalog's local time from UTC, e.g. +08:00 for Beijing time.
    #[arg(long)]
    utc_offset: Option<UtcOffset>,
    /// How to read a time of day 24:00:00 (HORUS writes it): refuse (the default) or next-day
    /// (24:00:00 of day D is 00:00:00 of day D+1).
    #[arg(long = "time-24h", value_enum)]
    time_24h: Option<Time24h>,
    /// Event types to keep, comma separated (ComCat's `type` column, e.g.
    /// earthquake,explosion,"quarry blast"). A row without a type is an earthquake. The rows of
    /// other types are counted in the read report.
    #[arg(long, default_value = "earthquake", value_parser = parse_event_types)]
    event_types: EventTypes,
    /// Keep only events inside LON0,LON1,LAT0,LAT1.
    #[arg(long, value_parser = parse_region)]
    region: Option<Region>,
    /// Skip malformed rows (and report how many and why) instead of stopping at the first.
    #[arg(long)]
    lenient: bool,
    /// Drop later copies of duplicate events (same time, place and magnitude); they are
    /// reported either way.
    #[arg(long)]
    drop_duplicates: bool,
    /// Seed of a synthetic catalog (default: the scenario's own).
    #[arg(long)]
    seed: Option<u64>,
    /// Refuse a synthetic scenario expected to simulate more events than this.
    #[arg(long, default_value_t = MAX_SIMULATED_EVENTS)]
    max_events: usize,
}

/// `quakelab decluster`'s arguments.
#[derive(Debug, Args)]
struct DeclusterArgs {
    #[command(flatten)]
    catalog: CatalogArgs,
    #[command(flatten)]
    period: PeriodArgs,
    /// Decluster the events with M >= MC only [default: every event in the period].
    #[arg(long)]
    mc: Option<f64>,
    /// The declustering method.
    #[arg(long, value_enum, default_value_t = DeclusterMethod::GardnerKnopoff)]
    method: DeclusterMethod,
    /// gardner-knopoff: the table of space-time windows [default: gardner-knopoff].
    #[arg(long, value_enum)]
    window: Option<WindowTable>,
    /// gardner-knopoff: the foreshock window as a proportion of the aftershock window, in
    /// [0, 1] [default: 1].
    #[arg(long)]
    fs_time_prop: Option<f64>,
    /// gardner-knopoff: the longest window in days [default: none].
    #[arg(long)]
    time_cutoff_days: Option<f64>,
    /// reasenberg: the look-ahead time of an event in no cluster, in days [default: 1].
    #[arg(long)]
    tau_min_days: Option<f64>,
    /// reasenberg: the longest look-ahead time within a cluster, in days [default: 10].
    #[arg(long)]
    tau_max_days: Option<f64>,
    /// reasenberg: the confidence of seeing a cluster's next event within the look-ahead time
    /// [default: 0.95].
    #[arg(long)]
    p: Option<f64>,
    /// reasenberg: the share of a cluster's largest magnitude that raises the effective
    /// magnitude threshold [default: 0.5].
    #[arg(long)]
    xk: Option<f64>,
    /// reasenberg: the catalog's effective minimum magnitude [default: 1.5].
    #[arg(long)]
    xmeff: Option<f64>,
    /// reasenberg: an event's interaction radius in crack radii [default: 10].
    #[arg(long)]
    rfact: Option<f64>,
    /// reasenberg: the epicentre location error in km [default: 1.5].
    #[arg(long)]
    epicentre_error_km: Option<f64>,
    /// reasenberg: the depth location error in km [default: 2].
    #[arg(long)]
    depth_error_km: Option<f64>,
    /// Write only the mainshocks (the declustered catalog) instead of every event.
    #[arg(long)]
    declustered: bool,
    /// Output CSV file.
    #[arg(long)]
    out: PathBuf,
}

impl DeclusterArgs {
    /// The checked method; a setting of the other method is refused.
    fn resolve(&self) -> anyhow::Result<Declusterer> {
        let gardner_knopoff = [
            ("--window", self.window.is_some()),
            ("--fs-time-prop", self.fs_time_prop.is_some()),
            ("--time-cutoff-days", self.time_cutoff_days.is_some()),
        ];
        let reasenberg = [
            ("--tau-min-days", self.tau_min_days.is_some()),
            ("--tau-max-days", self.tau_max_days.is_some()),
            ("--p", self.p.is_some()),
            ("--xk", self.xk.is_some()),
            ("--xmeff", self.xmeff.is_some()),
            ("--rfact", self.rfact.is_some()),
            ("--epicentre-error-km", self.epicentre_error_km.is_some()),
            ("--depth-error-km", self.depth_error_km.is_some()),
        ];
        let (other, other_method) = match self.method {
            DeclusterMethod::GardnerKnopoff => (&reasenberg[..], DeclusterMethod::Reasenberg),
            DeclusterMethod::Reasenberg => (&gardner_knopoff[..], DeclusterMethod::GardnerKnopoff),
        };
        if let Some((flag, _)) = other.iter().find(|(_, given)| *given) {
            bail!(
                "{flag} is a setting of --method {}, not of --method {}",
                other_method.name(),
                self.method.name()
            );
        }
        Ok(match self.method {
            DeclusterMethod::GardnerKnopoff => {
                let defaults = GardnerKnopoffParams::default();
                Declusterer::GardnerKnopoff(
                    GardnerKnopoffParams {
                        window: self.window.unwrap_or(defaults.window),
                        fs_time_prop: self.fs_time_prop.unwrap_or(defaults.fs_time_prop),
                        time_cutoff_days: self.time_cutoff_days,
                    }
                    .check()?,
                )
            }
            DeclusterMethod::Reasenberg => {
                let d = ReasenbergParams::default();
                Declusterer::Reasenberg(
                    ReasenbergParams {
                        tau_min_days: self.tau_min_days.unwrap_or(d.tau_min_days),
                        tau_max_days: self.tau_max_days.unwrap_or(d.tau_max_days),
                        p: self.p.unwrap_or(d.p),
                        xk: self.xk.unwrap_or(d.xk),
                        xmeff: self.xmeff.unwrap_or(d.xmeff),
                        rfact: self.rfact.unwrap_or(d.rfact),
                        epicentre_error_km: self.epicentre_error_km.unwrap_or(d.epicentre_error_km),
                        depth_error_km: self.depth_error_km.unwrap_or(d.depth_error_km),
                    }
                    .check()?,
                )
            }
        })
    }
}

/// The study period.
#[derive(Debug, Args)]
struct PeriodArgs {
    /// First day, YYYY-MM-DD (day index 0).
    #[arg(long)]
    start: String,
    /// The day after the last, YYYY-MM-DD (exclusive).
    #[arg(long)]
    end: String,
    /// Refuse a period longer than this many days (per-day arrays and the KDE grow with it).
    #[arg(long, default_value_t = MAX_DAYS)]
    max_days: usize,
}

/// Settings of the b-value estimate.
#[derive(Debug, Args)]
struct BValueArgs {
    /// Completeness magnitude: events with M >= MC are used (the paper uses 3.0).
    #[arg(long, default_value_t = 3.0)]
    mc: f64,
    /// Estimate Mc per window by --mc-method instead of using --mc (then --mc is the floor of
    /// the events read).
    #[arg(long)]
    mc_per_window: bool,
    /// With --mc-per-window: maxc (MAXC + 0.2), gft, b-stability (range 0.5) or ks (1000
    /// simulations per candidate, seed 0). b-stability, ks and gft see each window's
    /// magnitudes binned to 0.1.
    #[arg(long, value_enum, default_value_t = McMethodKind::Maxc, requires = "mc_per_window")]
    mc_method: McMethodKind,
    /// b-value estimator: aki (the paper's eq. 19), aki-utsu, tinti-mulargia (the discrete MLE,
    /// SeismoStats' classic estimator), b-positive or b-more-positive.
    #[arg(long, value_enum, default_value_t = BEstimator::Aki)]
    estimator: BEstimator,
    /// The estimate b-positive and b-more-positive apply to their magnitude differences.
    #[arg(long, value_enum, default_value_t = DifferenceMle::TintiMulargia)]
    difference_mle: DifferenceMle,
    /// The smallest magnitude difference b-positive and b-more-positive keep (default: the
    /// bin width, 0.1).
    #[arg(long)]
    dmc: Option<f64>,
    /// Windows with fewer events than this are missing (reason: too few events).
    #[arg(long, default_value_t = 50)]
    min_events: usize,
}

/// `quakelab sweep`: a sweep over an experiment file, or an action on a Slurm sweep directory.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
struct SweepArgs {
    #[command(subcommand)]
    action: Option<SweepAction>,
    /// The experiment file (TOML); its [sweep] table adds axes.
    #[arg(required = true)]
    file: Option<PathBuf>,
    /// An axis KEY=V1,V2,... (repeatable with different keys; the last varies fastest).
    /// It replaces a [sweep] axis of the same key. Per-decoder keys work:
    /// decoders.KIND.KEY or decoders.INDEX.KEY.
    #[arg(long = "axis", value_name = "KEY=V1,V2,...")]
    axes: Vec<String>,
    /// Override a setting, KEY=VALUE (repeatable; decoders.KIND.KEY=VALUE sets one
    /// decoder's setting; launcher.slurm.KEY=VALUE one Slurm option).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Configs run at once (local launcher). The total threads stay about the number of
    /// cores: each config runs in its own pool of max(1, cores / JOBS) threads for its own
    /// parallel work (gridding, forest).
    #[arg(long, default_value = "1")]
    jobs: NonZeroUsize,
    /// Where the configs run: here, or as one Slurm job array (one task per config).
    #[arg(long, value_enum, default_value_t = LauncherKind::Local)]
    launcher: LauncherKind,
    #[command(flatten)]
    slurm: SlurmArgs,
    /// Slurm: write the sweep directory (configs and sweep.sbatch) and stop before sbatch;
    /// `quakelab sweep submit DIR` submits it, edited or not.
    #[arg(long)]
    dry_run: bool,
    /// Slurm: the sweep directory (new or empty) instead of results/sweeps/NAME/TIME.
    #[arg(long, value_name = "DIR")]
    sweep_dir: Option<PathBuf>,
}

/// Where a sweep's configs run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LauncherKind {
    /// On this machine, --jobs at a time.
    Local,
    /// As one Slurm job array, submitted with sbatch.
    Slurm,
}

/// The Slurm options of `quakelab sweep --launcher slurm`; each sets its key of the file's
/// `[launcher.slurm]` table, as `--set launcher.slurm.KEY=VALUE` would.
#[derive(Debug, Args)]
#[command(next_help_heading = "Slurm (--launcher slurm; [launcher.slurm] in the file)")]
struct SlurmArgs {
    /// sbatch --partition.
    #[arg(long)]
    partition: Option<String>,
    /// sbatch --account.
    #[arg(long)]
    account: Option<String>,
    /// Each task's time limit, sbatch --time (MINUTES, HH:MM:SS, DAYS-HH:MM:SS).
    #[arg(long)]
    time: Option<String>,
    /// sbatch --cpus-per-task; the task's own parallel work uses that many threads.
    #[arg(long)]
    cpus_per_task: Option<u32>,
    /// Memory per task, sbatch --mem (4000, 512M, 8G).
    #[arg(long)]
    mem: Option<String>,
    /// Generic resources per task, sbatch --gres (gpu:1).
    #[arg(long)]
    gres: Option<String>,
    /// At most K tasks at once (--array=0-N%K).
    #[arg(long, value_name = "K")]
    max_parallel: Option<u32>,
    /// A further sbatch option, one #SBATCH line (repeatable): --sbatch=--qos=long.
    #[arg(long = "sbatch", value_name = "OPTION", allow_hyphen_values = true)]
    directives: Vec<String>,
    /// A shell line each task runs before quakelab (repeatable): --setup 'module load gcc'.
    #[arg(long = "setup", value_name = "LINE")]
    setup: Vec<String>,
    /// SIGUSR1 this many seconds before the time limit, which ends the run as FAILED (0: none).
    #[arg(long, value_name = "SECONDS")]
    signal_seconds: Option<u32>,
}

impl SlurmArgs {
    /// The options given, as `launcher.slurm.KEY=VALUE` assignments (values as TOML).
    fn overrides(&self) -> Vec<String> {
        let text = |v: &String| toml::Value::String(v.clone());
        let number = |v: &u32| toml::Value::Integer(i64::from(*v));
        let values = [
            ("partition", self.partition.as_ref().map(text)),
            ("account", self.account.as_ref().map(text)),
            ("time", self.time.as_ref().map(text)),
            ("cpus_per_task", self.cpus_per_task.as_ref().map(number)),
            ("mem", self.mem.as_ref().map(text)),
            ("gres", self.gres.as_ref().map(text)),
            ("max_parallel", self.max_parallel.as_ref().map(number)),
            (
                "directives",
                (!self.directives.is_empty())
                    .then(|| toml::Value::Array(self.directives.iter().map(text).collect())),
            ),
            (
                "setup",
                (!self.setup.is_empty()).then(|| text(&self.setup.join("\n"))),
            ),
            ("signal_seconds", self.signal_seconds.as_ref().map(number)),
        ];
        values
            .into_iter()
            .filter_map(|(key, value)| value.map(|v| format!("launcher.slurm.{key}={v}")))
            .collect()
    }
}

/// The actions on a Slurm sweep directory.
#[derive(Debug, Subcommand)]
enum SweepAction {
    /// Each config's state (PENDING, RUNNING, FINISHED, FAILED, TIMEOUT) from the run store
    /// and squeue/sacct; once every task is done, writes the summary table and plot as a local
    /// sweep does.
    ///
    /// Example: quakelab sweep status results/sweeps/paper/20261129T101500Z --wait
    Status {
        /// The sweep directory (printed when the sweep was submitted).
        dir: PathBuf,
        /// Follow the tasks with a progress bar until every one is done; exit 1 when a config
        /// failed or timed out.
        #[arg(long)]
        wait: bool,
        /// Seconds between two looks at Slurm with --wait.
        #[arg(long, default_value_t = 5.0)]
        interval: f64,
    },
    /// Cancel the sweep's job array (scancel); running tasks record their runs as FAILED.
    Cancel {
        /// The sweep directory.
        dir: PathBuf,
    },
    /// Submit a sweep directory written with --dry-run (its sweep.sbatch, edited or not).
    Submit {
        /// The sweep directory.
        dir: PathBuf,
    },
    /// Run one array task (what sweep.sbatch runs).
    #[command(hide = true)]
    Task {
        /// The sweep directory.
        dir: PathBuf,
        /// The task; SLURM_ARRAY_TASK_ID when absent.
        task: Option<usize>,
    },
}

/// Parses the arguments, sets up logging, runs the command and maps errors to exit code 1. For
/// `run` and `sweep`, SIGINT, SIGTERM and SIGUSR1 first end the open runs as FAILED (exit code
/// 130, 143 or 138).
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    if matches!(cli.command, Command::Run { .. } | Command::Sweep(_))
        && let Err(e) = fail_runs_on_interrupt()
    {
        eprintln!("error: cannot handle SIGINT, SIGTERM and SIGUSR1: {e}");
        return ExitCode::FAILURE;
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs to stderr, in colour only when stderr is a terminal and `NO_COLOR` is unset or empty
/// (<https://no-color.org>), so a log redirected to a file holds no escape codes.
fn init_logging(verbose: u8) {
    use std::io::IsTerminal;
    let default = match verbose {
        0 => "quakelab=warn",
        1 => "quakelab=info",
        _ => "quakelab=debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal() && !no_color)
        .with_target(false)
        .init();
}

/// Runs one parsed command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Run { files, set } => {
            // Every file resolves before any runs, so a typo in the last fails at once.
            let experiments = files
                .iter()
                .map(|file| {
                    let layers = Layers::new(file)
                        .with_overrides(set.iter().cloned())
                        .with_process_env();
                    config::resolve(&layers)
                        .with_context(|| format!("resolving {}", file.display()))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            for (file, experiment) in files.iter().zip(&experiments) {
                if files.len() > 1 {
                    println!("== {}", file.display());
                }
                let outcome = runner::run(experiment)?;
                print_outcome(&outcome);
            }
        }
        Command::Sweep(args) => sweep_command(args)?,
        Command::Report { dirs, paper } => {
            if dirs.is_empty() {
                bail!("give at least one run or experiment directory");
            }
            let (mut rendered, mut skipped) = (0, 0);
            for dir in &dirs {
                for run in finished_runs(dir)? {
                    let rendered_files = if is_classification_run(&run) {
                        render_classification(&run).map_err(anyhow::Error::from)
                    } else {
                        run_period(&run).and_then(|period| Ok(render_run(&run, &period)?))
                    };
                    let redraw =
                        rendered_files.and_then(|written| Ok(record_rewritten(&run, &written)?));
                    match redraw {
                        Ok(()) => {
                            println!("rendered {}", run.display());
                            rendered += 1;
                        }
                        Err(e) => {
                            warn!("skipped run {}: {e:#}", run.display());
                            skipped += 1;
                        }
                    }
                }
            }
            if skipped > 0 {
                let runs = if skipped == 1 { "run" } else { "runs" };
                println!(
                    "skipped {skipped} {runs} that failed to read or verify (see the warnings)"
                );
                if rendered == 0 {
                    bail!("no run rendered: {skipped} {runs} failed to read or verify");
                }
            }
            if paper {
                let latest = dirs
                    .iter()
                    .map(|d| {
                        finished_runs(d)?
                            .pop()
                            .with_context(|| format!("no finished run under {}", d.display()))
                    })
                    .collect::<anyhow::Result<Vec<_>>>()?;
                let path = paper::assemble(Path::new("paper"), &latest)?;
                println!("wrote {}", path.display());
            }
        }
        Command::Config(ConfigCommand::Show { file, set }) => {
            let layers = Layers::new(&file).with_overrides(set).with_process_env();
            print!("{}", config::show(&layers)?);
        }
        Command::Sync { run_dir, uri } => {
            let uri = match uri {
                Some(uri) => uri,
                None => configured_mlflow_uri(&run_dir)?,
            };
            let report = sync(&run_dir, &uri)?;
            print!("{report}");
        }
        Command::Decode {
            decoder,
            train,
            test,
            valid,
            target,
            set,
            out,
            seed,
            quantiles,
            device,
        } => {
            let mut config = DecoderConfig::from_kind(&decoder)?;
            for assignment in &set {
                config.apply_override(assignment)?;
            }
            let files = DecodeFiles {
                train: &train,
                test: &test,
                valid: valid.as_deref(),
                out: &out,
            };
            let quantiles = quantiles
                .map(QuantileLevels::new)
                .transpose()
                .map_err(|e| crate::Error::config("--quantiles", e))?;
            let options = DecodeOptions {
                seed,
                device,
                quantiles,
            };
            let report = decode_csv(&config, &files, &target, &options)?;
            let mut details = Vec::new();
            if report.n_valid > 0 {
                details.push(format!("watching {} validation rows", report.n_valid));
            }
            if report.missing_cells > 0 {
                details.push(format!(
                    "{} missing feature cells read as NaN",
                    report.missing_cells
                ));
            }
            if options.quantiles.is_some() && !report.distribution {
                details.push(format!(
                    "{} gives no distribution: no quantiles written",
                    report.decoder
                ));
            }
            if let Some(mse) = report.test_mse {
                details.push(format!("test MSE {mse:.6e}"));
            }
            println!(
                "wrote {} ({} predictions from {} fitted on {} rows{})",
                out.display(),
                report.n_test,
                report.decoder,
                report.n_train,
                details.iter().map(|d| format!(", {d}")).collect::<String>()
            );
        }
        Command::Synth(SynthCommand::Catalog {
            scenario,
            years,
            seed,
            max_events,
            incompleteness,
            out,
        }) => {
            let period =
                Period::parse(&format!("{}-01-01", years.0), &format!("{}-01-01", years.1))?;
            let mut scenario = Scenario::load(&scenario)?;
            if let Some(seed) = seed {
                scenario.seed = seed;
            }
            if let Some(model) = incompleteness {
                scenario.etas = scenario.etas.with_incompleteness(model);
            }
            let path = out.join("catalog.csv");
            if scenario.etas.params().incompleteness.is_none() {
                let report = write_synthetic_catalog(&scenario, &period, &path, max_events)?;
                info!("{report}");
                println!("wrote {} ({} events)", path.display(), report.kept);
            } else {
                let simulation = simulate_scenario(&scenario, &period, max_events)?;
                let truth_path = out.join("catalog_true.csv");
                write_comcat(&path, &simulation.observed())?;
                write_comcat(&truth_path, simulation.truth())?;
                let report = simulation.report();
                info!("{report}");
                println!(
                    "wrote {} ({} detected events) and {} (all {} events; {} hidden by \
                     short-term incompleteness)",
                    path.display(),
                    report.detected(),
                    truth_path.display(),
                    report.kept,
                    report.thinned
                );
            }
        }
        Command::Features(FeaturesCommand::Seismicity {
            catalog,
            period,
            b,
            window_days,
            step_days,
            window_events,
            step_events,
            out,
        }) => {
            let period = period.resolve()?;
            let params = b.resolve()?;
            let spec = match window_events {
                Some(n) => WindowSpec::events(n, step_events)?,
                None => WindowSpec::time(window_days, step_days)?,
            };
            let catalog = load_catalog(&catalog, &period)?;
            let selection = catalog.select(&period, b.mc)?;
            let rows = sliding_b_values(&selection, period.n_days(), &spec, &params);
            study_report::ba_table(&period, &rows).write_csv(&out)?;
            let tally = WindowTally::of(&rows);
            println!(
                "wrote {} ({} rows, {} with b and a values)",
                out.display(),
                tally.rows,
                tally.valid
            );
            if tally.valid == 0 {
                let counts = catalog.selection_counts(&period, b.mc);
                let why = if counts.selected == 0 {
                    counts.to_string()
                } else if tally.complete == 0 {
                    format!(
                        "{counts}; every window reaches back before the period start \
                         (a window of {window_days} days needs a period at least that long)"
                    )
                } else {
                    format!(
                        "{counts}; no window held the {} events needed (--min-events), the \
                         fullest held {}",
                        b.min_events, tally.most_events
                    )
                };
                warn!("no window has b and a values: {why}");
                println!("no window has b and a values: {why}");
            }
        }
        Command::Features(FeaturesCommand::Mc {
            catalog,
            period,
            method,
            correction,
            bin_width,
            stability_range,
            candidates,
            ks_p_value,
            ks_simulations,
            ks_seed,
            out,
        }) => {
            let period = period.resolve()?;
            let catalog = load_catalog(&catalog, &period)?;
            let selection = catalog.select(&period, MIN_MAGNITUDE)?;
            let method = McSettings {
                correction,
                stability_range,
                ks_p_value,
                ks_simulations,
                ks_seed,
            }
            .method(method);
            let estimate = completeness_magnitude(
                selection.magnitudes(),
                &method,
                bin_width,
                candidates.as_deref(),
            )
            .with_context(|| {
                format!(
                    "no Mc: {}",
                    catalog.selection_counts(&period, MIN_MAGNITUDE)
                )
            })?;
            let mut table = Table::new(["method", "mc"]);
            table.push(vec![
                method.name().into(),
                optional_number(estimate.mc(), 6),
            ]);
            table.write_csv(&out)?;
            let diagnostics_path = out.with_extension("diagnostics.csv");
            let mut diagnostics = Table::new(estimate.diagnostic_columns().iter().copied());
            for row in estimate.diagnostic_rows() {
                diagnostics.push(row.into_iter().map(|v| number(v, 6)).collect());
            }
            diagnostics.write_csv(&diagnostics_path)?;
            match estimate.mc() {
                Some(mc) => println!("Mc by {}: {mc}", method.name()),
                None => println!("Mc by {}: no candidate passed", method.name()),
            }
            println!(
                "wrote {} and {} ({} events)",
                out.display(),
                diagnostics_path.display(),
                selection.len()
            );
        }
        Command::Features(FeaturesCommand::Weichert {
            catalog,
            period,
            completeness,
            bin_width,
            out,
        }) => {
            let period = period.resolve()?;
            let periods = read_completeness_table(&completeness, &period)?;
            let catalog = load_catalog(&catalog, &period)?;
            let selection = catalog.select(&period, MIN_MAGNITUDE)?;
            let years: Vec<f64> = selection
                .times()
                .iter()
                .map(|&t| t / DAYS_PER_YEAR)
                .collect();
            let end = period.n_days() as f64 / DAYS_PER_YEAR;
            let w = weichert(&years, selection.magnitudes(), &periods, end, bin_width)?;
            let mut table = Table::new([
                "b",
                "b_std",
                "rate",
                "rate_std",
                "a",
                "lowest_edge",
                "n_used",
                "n_below",
                "n_before",
            ]);
            table.push(vec![
                number(w.b, 10),
                number(w.b_std, 10),
                number(w.rate, 10),
                number(w.rate_std, 10),
                number(w.a, 10),
                number(w.lowest_edge, 6),
                w.n_used.to_string().into(),
                w.n_below.to_string().into(),
                w.n_before.to_string().into(),
            ]);
            table.write_csv(&out)?;
            println!(
                "b = {:.4} ± {:.4} from {} events ({} below the lowest Mc, {} before their \
                 period); wrote {}",
                w.b,
                w.b_std,
                w.n_used,
                w.n_below,
                w.n_before,
                out.display()
            );
        }
        Command::Labels(LabelsCommand::Kde {
            catalog,
            period,
            mc,
            bandwidth,
            scale,
            out,
        }) => {
            let period = period.resolve()?;
            let catalog = load_catalog(&catalog, &period)?;
            let selection = catalog.select(&period, mc)?;
            let params = KdeParams::new(bandwidth, scale);
            let labels = kde_labels(selection.times(), period.n_days(), &params)
                .with_context(|| format!("no labels: {}", catalog.selection_counts(&period, mc)))?;
            study_report::labels_table(&period, &labels).write_csv(&out)?;
            println!(
                "wrote {} ({} days, {} events, bandwidth {:.3} days)",
                out.display(),
                period.n_days(),
                selection.len(),
                labels.bandwidth_days
            );
        }
        Command::Labels(LabelsCommand::AroundEvents {
            catalog,
            period,
            mc,
            min_magnitude,
            days_before,
            days_after,
            bandwidth,
            boundary,
            horizon_days,
            out,
        }) => {
            let period = period.resolve()?;
            figure::check_image_path(&out.join("around_events.png"))?;
            let catalog = load_catalog(&catalog, &period)?;
            let selection = catalog.select(&period, mc)?;
            let settings = AroundEventsSettings {
                min_magnitude,
                days_before,
                days_after,
                kde: KdeParams::new(bandwidth, LabelScale::None),
                boundary,
                count_window_days: horizon_days,
            };
            let study = around_events(&selection, period.n_days(), &settings)
                .with_context(|| catalog.selection_counts(&period, mc).to_string())?;
            study.write(&period, &out)?;
            println!(
                "wrote {} and {} ({} events of M >= {min_magnitude} among {} events of M >= {mc})",
                out.join("around_events.csv").display(),
                out.join("around_events.png").display(),
                study.events.len(),
                selection.len()
            );
            print!("{}", study.rise_table(&period).to_markdown());
            for sentence in study.verdicts() {
                println!("{sentence}");
            }
        }
        Command::Synth(SynthCommand::Gnss {
            scenario,
            catalog,
            start,
            end,
            stations_from,
            out,
            force,
        }) => {
            let overwrite = if force {
                Overwrite::Any
            } else {
                Overwrite::PreviousNetwork
            };
            check_network_output(&out, overwrite)?;
            let period = Period::parse(&start, &end)?;
            let mut scenario = Scenario::load(&scenario)?;
            if let Some(seed) = catalog.seed {
                scenario.seed = seed;
            }
            let events = load_catalog(&catalog, &period)?;
            let stations = match &stations_from {
                Some(path) => {
                    let (entries, report) = read_station_list(path)?;
                    info!("{report:?}");
                    Some(entries.into_iter().map(|e| e.station).collect::<Vec<_>>())
                }
                None => None,
            };
            let (set, report) = simulate_network(&scenario, &events, &period, stations.as_deref())?;
            info!("{report}");
            write_network(&out, &set, overwrite, |dir| {
                precursor_table(&report).write_csv(&dir.join("precursors.csv"))
            })?;
            println!(
                "wrote {} stations to {} ({} precursors planted)",
                set.len(),
                out.display(),
                report.precursors.len()
            );
        }
        Command::Geomag(GeomagCommand::Classes {
            catalog,
            period,
            centre,
            radius_km,
            min_magnitude,
            threshold,
            horizon_days,
            keep_aftershocks,
            kmeans_seed,
            out,
        }) => {
            let period = period.resolve()?;
            let catalog = load_catalog(&catalog, &period)?;
            let params = ClassParams {
                centre,
                radius_km,
                min_magnitude,
                magnitude_threshold: threshold,
                horizon_days,
                aftershocks: (!keep_aftershocks).then_some(AftershockRule::PAPER),
            };
            let classes = day_classes(catalog.events(), &period, &params, kmeans_seed)?;
            std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
            let table = classification_report::class_table(&classes, threshold);
            table.write_csv(&out.join("classes.csv"))?;
            table.write_markdown(&out.join("classes.md"))?;
            classification_report::events_table(&classes).write_csv(&out.join("events.csv"))?;
            let [north, south] = classes.centres;
            println!(
                "{} events (left out: {} outside the period, {} at or below M {min_magnitude}, \
                 {} beyond {radius_km} km, {} aftershocks); k-means centres: north {:.2}N \
                 {:.2}E, south {:.2}N {:.2}E",
                classes.events.len(),
                classes.left_out.outside_period,
                classes.left_out.magnitude,
                classes.left_out.distance,
                classes.left_out.aftershocks,
                north.0,
                north.1,
                south.0,
                south.1
            );
            print!("{}", table.to_markdown());
            println!("wrote {}", out.display());
        }
        Command::Geomag(GeomagCommand::Read { files, out }) => {
            let files = files
                .iter()
                .map(|path| read_iaga2002(path))
                .collect::<crate::Result<Vec<_>>>()?;
            let series = series_from_iaga(&files)?;
            write_series_csv(&out, &series)?;
            let rows: usize = series.iter().map(|s| s.times.len()).sum();
            let missing: usize = series.iter().map(GeomagSeries::n_missing).sum();
            let stations = match series.len() {
                1 => "1 station".to_string(),
                n => format!("{n} stations"),
            };
            println!(
                "wrote {} ({rows} rows, {stations}, {missing} missing values)",
                out.display()
            );
        }
        Command::Encode(EncodeCommand::Vit(args)) => encode_vit(&args)?,
        Command::Gnss(GnssCommand::Grid {
            stations,
            period,
            grid,
            out,
        }) => {
            let format = StackFormat::from_path(&out)?;
            let period = period.resolve()?;
            let limit = grid.memory_limit()?;
            let grid = grid.resolve()?;
            let set = stations.load()?;
            let (stack, report) = grid_stations_within(&set, &period, &grid, true, limit)?;
            stack.write_as(&out, format)?;
            println!("wrote {} ({report})", out.display());
        }
        Command::Render(RenderCommand::Gnss {
            stations,
            days,
            grid,
            out,
        }) => {
            figure::check_image_path(&out)?;
            let limit = grid.memory_limit()?;
            let grid = grid.resolve()?;
            let set = stations.load()?;
            let dates = days
                .iter()
                .map(|d| parse_date("days", d))
                .collect::<crate::Result<Vec<Date>>>()?;
            gnss_report::displacement_days(&set, &dates, &grid, limit, &out)?;
            println!("wrote {}", out.display());
        }
        Command::Study(StudyCommand::Windows {
            catalog,
            period,
            b,
            windows,
            bandwidth,
            out,
        }) => {
            let period = period.resolve()?;
            let params = b.resolve()?;
            if windows.is_empty() {
                bail!("--windows: give at least one window length");
            }
            let catalog = load_catalog(&catalog, &period)?;
            let table = study_report::window_study_report(
                &catalog, &period, b.mc, &params, &windows, bandwidth, &out,
            )
            .with_context(|| {
                format!("window study: {}", catalog.selection_counts(&period, b.mc))
            })?;
            print!("{}", table.to_markdown());
            println!("wrote {}", out.display());
        }
        Command::Models(command) => models_command(command)?,
        Command::Decluster(args) => decluster_command(&args)?,
        Command::Pfn(PfnCommand::Prior(PfnPriorCommand::Show {
            config,
            seed,
            tasks,
            rows,
            features,
            out,
        })) => {
            let config = PriorConfig::load_or_default(config.as_deref())?;
            let options = ShowOptions {
                seed,
                tasks,
                rows,
                features,
            };
            println!("{}", prior_show(config, &options, &out)?);
        }
        Command::Pfn(PfnCommand::Eval {
            weights,
            config,
            seed,
            prior_tasks,
            friedman_tables,
            friedman_rows,
            tables,
            target,
            test_column,
            models,
            out,
        }) => {
            let options = EvalOptions {
                weights,
                prior: PriorConfig::load_or_default(config.as_deref())?,
                seed,
                prior_tasks,
                friedman_tables,
                friedman_rows,
                tables,
                target,
                test_column,
                models,
            };
            let summary = run_eval(&options, &out, true)?;
            println!("family,model,tasks,mean_rank,wins,mean_r2");
            for row in &summary {
                println!(
                    "{},{},{},{:.2},{},{:.3}",
                    row.family, row.model, row.tasks, row.mean_rank, row.wins, row.mean_r2
                );
            }
            println!(
                "wrote {} and {}",
                out.join("tasks.csv").display(),
                out.join("summary.csv").display()
            );
        }
        Command::Pfn(PfnCommand::Pretrain {
            config,
            resume,
            steps,
            device,
            out,
        }) => {
            let mut config = PretrainConfig::load(&config)?;
            if let Some(steps) = steps {
                config.pfn.pretrain.steps = steps;
            }
            if let Some(device) = device {
                config.pfn.pretrain.device = Device::parse(&device)?;
            }
            if let Some(out) = out {
                config.tracking.results_dir = out.display().to_string();
            }
            let report = pretrain(&config, &PretrainOptions { resume })?;
            println!(
                "pretrained {} ({} parameters) from step {} to {}: final loss {:.4}; {:.1} \
                 tasks/s, {:.0} tokens/s, {:.3} s/step; {} tasks skipped for constant context \
                 targets",
                config.name,
                report.parameters,
                report.start_step,
                report.steps,
                report.final_loss,
                report.tasks_per_second,
                report.tokens_per_second,
                report.seconds_per_step,
                report.skipped_tasks
            );
            println!("wrote {}", report.model.display());
            if report.unsynced {
                println!(
                    "the MLflow server missed calls: run `quakelab sync {}` later",
                    report.run_dir.display()
                );
            }
        }
    }
    Ok(())
}

/// Runs one `quakelab models` subcommand.
fn models_command(command: ModelsCommand) -> anyhow::Result<()> {
    match command {
        ModelsCommand::Fetch { name, force } => models_fetch(&name, force),
        ModelsCommand::List => models_list(),
        ModelsCommand::Info { file_or_dir } => models_info(&file_or_dir),
    }
}

/// `quakelab models fetch`: downloads and verifies, then says what it did per file.
fn models_fetch(name: &str, force: bool) -> anyhow::Result<()> {
    let registry = Registry::builtin();
    let entry = registry.get(name)?;
    let store = Store::from_env()?;
    let fetcher = Fetcher::from_env()?.with_progress(true);
    println!(
        "{} (revision {}) from {} into {}",
        entry.id,
        entry.revision,
        fetcher.hub_url(),
        store.model_dir(&entry.id).display()
    );
    for file in &entry.files {
        let file = fetcher.fetch_file(&store, entry, file, force)?;
        let what = match file.action {
            FetchAction::Downloaded => "downloaded",
            FetchAction::AlreadyPresent => "already present",
        };
        println!(
            "{what}: {} ({} bytes, sha256 {}, verified)",
            file.name, file.size, file.sha256
        );
    }
    println!("licence: {}", entry.licence);
    println!(
        "installed {} in {}",
        entry.id,
        store.model_dir(&entry.id).display()
    );
    Ok(())
}

/// `quakelab models list`: every model folder with its files and their registry check.
fn models_list() -> anyhow::Result<()> {
    let store = Store::from_env()?;
    let models = store.list(&Registry::builtin())?;
    println!("model store: {}", store.root().display());
    if models.is_empty() {
        println!("no model installed (fetch one with `quakelab models fetch NAME`)");
        return Ok(());
    }
    for model in &models {
        let status = match (&model.entry, model.is_verified()) {
            (None, _) => "not in quakelab's registry",
            (Some(_), true) => "verified against quakelab's registry",
            (Some(_), false) if model.files.iter().any(|f| f.check.is_mismatch()) => {
                "does NOT match quakelab's registry"
            }
            (Some(_), false) => "incomplete",
        };
        println!("{} ({status})", model.id);
        for file in &model.files {
            let check = match &file.check {
                FileCheck::Matches => "ok".to_string(),
                FileCheck::Differs { size, sha256 } => format!(
                    "MISMATCH: the registry pins{}{}",
                    size.map(|s| format!(" {s} bytes")).unwrap_or_default(),
                    sha256
                        .as_ref()
                        .map(|h| format!(" sha256 {h}"))
                        .unwrap_or_default()
                ),
                FileCheck::Unpinned => "not pinned".to_string(),
                FileCheck::NotInRegistry => "not in the registry".to_string(),
            };
            println!(
                "  {}  {} bytes  sha256 {}  {check}",
                file.name, file.size, file.sha256
            );
        }
        for name in &model.missing {
            println!(
                "  {name}  MISSING (run `quakelab models fetch {}`)",
                model.id
            );
        }
        for name in &model.partial {
            println!("  {name}.part  an unfinished download (fetch again to replace it)");
        }
    }
    Ok(())
}

/// `quakelab models info`: config, format, parameter count and the tensor inventory.
fn models_info(path: &Path) -> anyhow::Result<()> {
    let info = models::inspect(path)?;
    if let Some(config) = &info.config {
        if path.is_dir() {
            println!("config.json:");
        } else {
            println!("config (stored in the checkpoint):");
        }
        println!("{}", serde_json::to_string_pretty(config)?);
    }
    println!(
        "weights: {} ({}, {} bytes)",
        info.weights.display(),
        info.format,
        info.size
    );
    println!("parameters: {}", info.n_parameters);
    println!("tensors: {}", info.tensors.len());
    let shapes: Vec<String> = info
        .tensors
        .iter()
        .map(|t| format!("{:?}", t.shape))
        .collect();
    let name_width = info.tensors.iter().map(|t| t.name.len()).max().unwrap_or(0);
    let shape_width = shapes.iter().map(String::len).max().unwrap_or(0);
    for (tensor, shape) in info.tensors.iter().zip(&shapes) {
        println!(
            "  {:name_width$}  {:shape_width$}  {}",
            tensor.name, shape, tensor.dtype
        );
    }
    Ok(())
}

/// `quakelab encode vit`: loads the model, reads and prepares the images, encodes them
/// batch by batch and writes the embeddings.
fn encode_vit(args: &EncodeVitArgs) -> anyhow::Result<()> {
    let device = args.device.burn()?;
    let vit = if args.model == "random" {
        let config = match &args.config {
            Some(path) => VitConfig::from_file(path)?,
            None => VitConfig::base_patch16_224(),
        };
        Vit::random(config, args.seed, &device)?
    } else {
        if args.config.is_some() {
            bail!("--config is for --model random; a model folder has its own config.json");
        }
        Vit::load(Path::new(&args.model), &device)?
    };
    // Pixels N x C x H x W: the model's input size for --pixels, the stack's own size for
    // --images (resized batch by batch, so a long stack is never held at 224 x 224).
    let (pixels, height, width) = match (&args.pixels, &args.images) {
        (Some(path), _) => {
            let size = vit.config().image_size;
            (read_pixels(path, vit.config())?, size, size)
        }
        (None, Some(path)) => stack_pixels(path, args, vit.config())?,
        (None, None) => bail!("give --pixels or --images"),
    };
    let config = vit.config();
    let image_len = config.num_channels * height * width;
    let n = pixels.len() / image_len;
    let shape = match args.output {
        VitOutput::LastHiddenState => vec![n, config.n_tokens(), config.hidden_size],
        _ => vec![n, config.hidden_size],
    };
    let bar = progress::bar(n as u64, "encode vit");
    let mut data = Vec::with_capacity(shape.iter().product());
    for chunk in pixels.chunks(args.batch_size.get() * image_len) {
        let batch = ImageBatch::new(
            chunk,
            BatchShape {
                n: chunk.len() / image_len,
                channels: config.num_channels,
                height,
                width,
            },
        )?;
        let batch = if (height, width) == (config.image_size, config.image_size) {
            batch
        } else {
            preprocess::resize_bilinear(&batch, config.image_size, config.image_size)?
        };
        data.extend(vit.encode(&batch, args.output)?.data);
        bar.inc(batch.n() as u64);
    }
    bar.finish_and_clear();
    npy::write_f32(&args.out, &shape, &data)?;
    let weights = if vit.is_random() {
        "random init"
    } else {
        "pretrained"
    };
    println!(
        "wrote {} ({} of {n} images, {}; {weights}, {})",
        args.out.display(),
        args.output,
        shape
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(" x "),
        vit.fingerprint()
    );
    Ok(())
}

/// `--pixels`: an N x C x H x W array of exactly the model's input size.
fn read_pixels(path: &Path, config: &VitConfig) -> anyhow::Result<Vec<f32>> {
    let array = npy::read(path)?;
    let (c, s) = (config.num_channels, config.image_size);
    if array.shape.len() != 4 || array.shape[1..] != [c, s, s] {
        bail!(
            "{}: pixels of shape {:?}, but the model takes N x {c} x {s} x {s} \
             (N x num_channels x image_size x image_size); --pixels is used as given, \
             without scaling or resizing (--images prepares a GNSS stack)",
            path.display(),
            array.shape
        );
    }
    Ok(array.into_f32(path)?)
}

/// `--images`: a GNSS stack scaled to [-1, 1], channels first, at its own size (rows, cols).
fn stack_pixels(
    path: &Path,
    args: &EncodeVitArgs,
    config: &VitConfig,
) -> anyhow::Result<(Vec<f32>, usize, usize)> {
    let (dims, values) = match StackFormat::from_path(path)? {
        StackFormat::Compact => {
            let stack = ImageStack::read(path)?;
            (stack.shape(), stack.data().to_vec())
        }
        StackFormat::Npy => {
            let array = npy::read(path)?;
            let dims: [usize; 4] = match array.shape[..] {
                [d, r, c, 3] => [d, r, c, 3],
                _ => bail!(
                    "{}: an image stack is days x rows x cols x 3 (N, E, U), found shape {:?}",
                    path.display(),
                    array.shape
                ),
            };
            (dims, array.into_f32(path)?)
        }
    };
    let [days, rows, cols, channels] = dims;
    if channels != config.num_channels {
        bail!(
            "{}: the stack has {channels} channels, the model takes num_channels = {}",
            path.display(),
            config.num_channels
        );
    }
    let image_len = rows * cols * channels;
    if let Some(day) = (0..days).find(|d| {
        values[d * image_len..][..image_len]
            .iter()
            .any(|v| !v.is_finite())
    }) {
        let missing = (0..days)
            .filter(|d| {
                values[d * image_len..][..image_len]
                    .iter()
                    .any(|v| !v.is_finite())
            })
            .count();
        bail!(
            "{}: {missing} of {days} days have missing (NaN) cells, the first is day {day}; \
             missing values are never filled: encode a stack without them",
            path.display()
        );
    }
    let scale = match args.scale {
        Some(scale) if scale.is_finite() && scale > 0.0 => scale,
        Some(scale) => bail!("--scale must be a positive number of mm, got {scale}"),
        None => {
            let percentile = args.scale_percentile.unwrap_or(99.5);
            if !(percentile > 0.0 && percentile <= 100.0) {
                bail!("--scale-percentile must lie in (0, 100], got {percentile}");
            }
            let mut magnitudes: Vec<f32> = values.iter().map(|v| v.abs()).collect();
            match preprocess::percentile_of(&mut magnitudes, percentile) {
                Some(scale) if scale > 0.0 => scale,
                _ => bail!(
                    "{}: the {percentile}th percentile of |displacement| is 0 mm (blank \
                     images): nothing to scale; give --scale",
                    path.display()
                ),
            }
        }
    };
    info!("scale: {scale} mm maps to 1");
    let mut nchw = vec![0.0f32; values.len()];
    for (day, image) in values.chunks_exact(image_len).enumerate() {
        let out = &mut nchw[day * image_len..][..image_len];
        for (cell, v) in image.chunks_exact(channels).enumerate() {
            for (channel, &x) in v.iter().enumerate() {
                out[channel * rows * cols + cell] = x;
            }
        }
    }
    preprocess::scale_symmetric(&mut nchw, scale);
    Ok((nchw, rows, cols))
}

/// Prints a finished run's summary in words (the full table is in the run directory).
fn print_outcome(outcome: &runner::RunOutcome) {
    for line in &outcome.summary {
        println!("{line}");
    }
    if outcome.unsynced {
        println!(
            "the MLflow server could not be reached: run `quakelab sync {}` later",
            outcome.run_dir.display()
        );
    }
    let table = if outcome.results.is_empty() {
        "tables/classification.csv"
    } else {
        "tables/results.csv"
    };
    println!(
        "wrote {} (report.md; the full table is {table})",
        outcome.run_dir.display()
    );
}

/// `quakelab sweep`: a sweep, or one of its actions on a Slurm sweep directory.
fn sweep_command(args: SweepArgs) -> anyhow::Result<()> {
    match args.action {
        Some(SweepAction::Status {
            dir,
            wait,
            interval,
        }) => sweep_status(&dir, wait, interval),
        Some(SweepAction::Cancel { dir }) => {
            let job = slurm::cancel(&dir)?;
            println!("cancelled Slurm job {job}");
            Ok(())
        }
        Some(SweepAction::Submit { dir }) => {
            print_submission(&slurm::submit(&dir)?);
            Ok(())
        }
        Some(SweepAction::Task { dir, task }) => {
            let task = match task {
                Some(task) => task,
                None => std::env::var("SLURM_ARRAY_TASK_ID")
                    .context("give the task, or run inside a Slurm array (SLURM_ARRAY_TASK_ID)")?
                    .trim()
                    .parse()
                    .context("SLURM_ARRAY_TASK_ID is not a task number")?,
            };
            match slurm::run_task(&dir, task)? {
                slurm::TaskOutcome::Ran(outcome) => print_outcome(&outcome),
                slurm::TaskOutcome::AlreadyFinished(run) => {
                    println!("task {task}: already finished as run {run}");
                }
            }
            Ok(())
        }
        None => {
            let file = args
                .file
                .context("give the experiment file (quakelab sweep FILE)")?;
            let mut set = args.set;
            let slurm_set = args.slurm.overrides();
            if args.launcher == LauncherKind::Local
                && (!slurm_set.is_empty() || args.dry_run || args.sweep_dir.is_some())
            {
                bail!(
                    "the Slurm options (--partition, --time, --dry-run, --sweep-dir, ...) need \
                     --launcher slurm"
                );
            }
            set.extend(slurm_set);
            let layers = Layers::new(&file).with_overrides(set).with_process_env();
            let axes = args
                .axes
                .iter()
                .map(|a| Axis::parse(a))
                .collect::<crate::Result<Vec<_>>>()?;
            let plan = sweep::plan(&layers, &axes)?;
            println!("{}", plan.counts());
            let outcome = match args.launcher {
                LauncherKind::Local => sweep::run(&plan, &LocalLauncher::new(args.jobs))?,
                LauncherKind::Slurm => {
                    let exe = std::env::current_exe()
                        .context("cannot find this quakelab binary for the tasks to run")?;
                    let mut launcher = SlurmLauncher::new(exe).dry_run(args.dry_run);
                    if let Some(dir) = args.sweep_dir {
                        launcher = launcher.with_sweep_dir(dir);
                    }
                    sweep::run(&plan, &launcher)?
                }
            };
            if let Some(submission) = &outcome.submission {
                print_submission(submission);
            }
            if let Some(summary) = &outcome.summary {
                println!("wrote {}", summary.display());
            }
            if !outcome.failures.is_empty() {
                let lines: Vec<String> = outcome
                    .failures
                    .iter()
                    .map(|(index, error)| format!("{}: {error}", plan.runs[*index].describe()))
                    .collect();
                bail!(
                    "{} sweep runs failed:\n{}",
                    outcome.failures.len(),
                    lines.join("\n")
                );
            }
            Ok(())
        }
    }
}

fn print_submission(submission: &slurm::Submission) {
    let dir = submission.dir.display();
    match &submission.job_id {
        Some(job) => {
            println!(
                "submitted Slurm job {job}: {} tasks, sweep directory {dir}",
                submission.tasks
            );
            println!("follow it with: quakelab sweep status {dir} --wait");
        }
        None => {
            println!(
                "wrote {} ({} tasks); submit it with: quakelab sweep submit {dir}",
                submission.script.display(),
                submission.tasks
            );
        }
    }
}

/// `quakelab sweep status DIR [--wait]`: the table of states; once every task is done, the
/// summary. With `--wait`, follows the tasks with a progress bar first, and fails when a
/// configuration did not finish.
fn sweep_status(dir: &Path, wait: bool, interval: f64) -> anyhow::Result<()> {
    if !(interval.is_finite() && interval > 0.0) {
        bail!("--interval must be a positive number of seconds, got {interval}");
    }
    let mut status = slurm::status(dir)?;
    if wait && !status.is_done() {
        let bar = progress::bar(status.configs.len() as u64, "configs done");
        loop {
            let done = status.configs.iter().filter(|c| c.state.state.is_done());
            bar.set_position(done.count() as u64);
            if status.is_done() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_secs_f64(interval));
            status = slurm::status(dir)?;
        }
        bar.finish_and_clear();
    }
    print!("{status}");
    if let Some(summary) = slurm::summarize_if_done(dir, &status)? {
        println!("wrote {}", summary.display());
    }
    let unfinished = status
        .configs
        .iter()
        .filter(|c| matches!(c.state.state, TaskState::Failed | TaskState::Timeout))
        .count();
    if wait && unfinished > 0 {
        bail!(
            "{unfinished} of {} configs did not finish",
            status.configs.len()
        );
    }
    Ok(())
}

/// `dir` itself if it is a run directory, else the finished runs under it (a sweep's or an
/// experiment's directory) that read back and verify, oldest first; the others are named in a
/// warning each and counted.
fn finished_runs(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if runner::is_run_dir(dir) {
        return Ok(vec![dir.to_path_buf()]);
    }
    let listing = scan_runs(dir)?;
    for skipped in &listing.skipped {
        warn!("{skipped}");
    }
    if !listing.skipped.is_empty() {
        println!(
            "{}: skipped {} of {} runs that failed to read or verify (see the warnings)",
            dir.display(),
            listing.skipped.len(),
            listing.skipped.len() + listing.runs.len()
        );
    }
    Ok(listing
        .runs
        .into_iter()
        .filter(|r| r.status == RunStatus::Finished)
        .map(|r| r.dir)
        .collect())
}

/// The study period a run was configured with, from its stored config.
fn run_period(run_dir: &Path) -> anyhow::Result<Period> {
    let stored = read_run(run_dir)?;
    let text = std::fs::read_to_string(run_dir.join("config.toml"))
        .with_context(|| format!("reading {}", run_dir.join("config.toml").display()))?;
    let file: config::ExperimentFile = toml::from_str(&text)
        .with_context(|| format!("parsing the config of run {}", stored.record.run_id))?;
    Ok(Period::parse(&file.period.start, &file.period.end)?)
}

/// The MLflow URI a run's experiment was configured with.
fn configured_mlflow_uri(run_dir: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(run_dir.join("config.toml"))
        .with_context(|| format!("reading {}", run_dir.join("config.toml").display()))?;
    let file: config::ExperimentFile = toml::from_str(&text)?;
    if file.tracking.mlflow_uri.is_empty() {
        bail!("the run has no tracking.mlflow_uri: give --uri");
    }
    Ok(file.tracking.mlflow_uri)
}

/// The planted precursors of a synthetic network: the known truth for later checks.
fn precursor_table(report: &GnssReport) -> Table {
    let mut table = Table::new([
        "event_index",
        "time",
        "latitude",
        "longitude",
        "magnitude",
        "ramp_start",
        "amplitude_mm",
        "stations_reached",
    ]);
    for p in &report.precursors {
        table.push(vec![
            p.event_index.to_string().into(),
            p.time.to_string().into(),
            p.latitude.to_string().into(),
            p.longitude.to_string().into(),
            p.magnitude.to_string().into(),
            p.ramp_start.to_string().into(),
            p.amplitude_mm.to_string().into(),
            p.stations_reached.to_string().into(),
        ]);
    }
    table
}

impl StationArgs {
    fn load(&self) -> anyhow::Result<StationSet> {
        match (&self.tenv3, &self.geonet) {
            (Some(dir), _) => {
                let (set, report) = read_tenv3_dir(dir, &Tenv3Options::default())?;
                info!("{report}");
                Ok(set)
            }
            (None, Some(dir)) => Ok(read_geonet_dir(dir, &GeonetMapping::default())?),
            (None, None) => bail!("give --tenv3 DIR or --geonet DIR"),
        }
    }
}

impl GridArgs {
    fn memory_limit(&self) -> anyhow::Result<MemoryLimit> {
        Ok(self
            .max_memory_gb
            .map(MemoryLimit::gib)
            .transpose()?
            .unwrap_or_default())
    }

    fn resolve(&self) -> anyhow::Result<ValidGridSpec> {
        let (rows, cols) = parse_grid_size("grid", &self.grid)?;
        Ok(GridSpec {
            region: self.region,
            rows,
            cols,
            origin: if self.centres {
                GridOrigin::Centre
            } else {
                GridOrigin::Corner
            },
            sigma_cells: self.sigma_cells,
            ..GridSpec::paper(self.region)
        }
        .check()?)
    }
}

impl PeriodArgs {
    fn resolve(&self) -> anyhow::Result<Period> {
        let period = Period::parse(&self.start, &self.end)?;
        period.check_days(self.max_days)?;
        Ok(period)
    }
}

impl BValueArgs {
    fn resolve(&self) -> anyhow::Result<ValidBValueParams> {
        let mc = if self.mc_per_window {
            McChoice::PerWindow {
                method: McSettings {
                    correction: 0.2,
                    stability_range: 0.5,
                    ks_p_value: 0.1,
                    ks_simulations: 1000,
                    ks_seed: 0,
                }
                .method(self.mc_method),
            }
        } else {
            McChoice::Fixed(self.mc)
        };
        Ok(BValueParams {
            estimator: self.estimator,
            mc,
            min_events: self.min_events,
            dmc: self.dmc,
            difference_mle: self.difference_mle,
            ..BValueParams::default()
        }
        .check()?)
    }
}

/// `quakelab decluster`: the selected events declustered, written with their flags.
fn decluster_command(args: &DeclusterArgs) -> anyhow::Result<()> {
    let declusterer = args.resolve()?;
    let period = args.period.resolve()?;
    let catalog = load_catalog(&args.catalog, &period)?;
    let (selected, declustering) = decluster_period(&catalog, &period, args.mc, &declusterer)?;
    if selected.is_empty() {
        warn!(
            "nothing to decluster: {}",
            catalog.selection_counts(&period, args.mc.unwrap_or(catalog::MIN_MAGNITUDE))
        );
    }
    let rows = if args.declustered {
        Rows::Mainshocks
    } else {
        Rows::All
    };
    declustering.write_csv(&args.out, &selected, rows)?;
    eprintln!("{}: {}", declusterer.describe(), declustering.summary());
    let summary = declustering.summary();
    println!(
        "wrote {} ({} rows)",
        args.out.display(),
        if args.declustered {
            summary.kept
        } else {
            summary.events
        }
    );
    Ok(())
}

/// Loads the catalog named by `args` through [`catalog::load`] (a synthetic one is simulated
/// on first use and cached under results/cache), and logs what was skipped, left out or
/// duplicated.
fn load_catalog(args: &CatalogArgs, period: &Period) -> anyhow::Result<Catalog> {
    let mapping = args
        .columns
        .as_deref()
        .map(ColumnMapping::parse_pairs)
        .transpose()?;
    let source = CatalogSource::parse(&args.catalog, mapping, args.seed)?;
    let options = LoadOptions {
        read: ReadOptions {
            filter: CatalogFilter {
                region: args.region,
                ..CatalogFilter::default()
            },
            event_types: args.event_types.clone(),
            lenient: args.lenient,
            drop_duplicates: args.drop_duplicates,
        },
        time: TimeReading {
            time_format: args.time_format.clone(),
            utc_offset: args.utc_offset,
            time_24h: args.time_24h,
        },
        max_events: args.max_events,
        ..LoadOptions::default()
    };
    let (catalog, report) = catalog::load(&source, period, &options)
        .with_context(|| format!("reading catalog {}", args.catalog))?;
    if report.has_warnings() {
        warn!("{report}");
    } else {
        info!("{report}");
    }
    Ok(catalog)
}

fn parse_event_types(text: &str) -> Result<EventTypes, String> {
    EventTypes::parse(text).map_err(|e| e.to_string())
}

fn parse_years(text: &str) -> Result<(i16, i16), String> {
    let (a, b) = text
        .split_once(':')
        .ok_or_else(|| format!("expected FIRST:END (e.g. 2009:2024), got `{text}`"))?;
    let first: i16 = a
        .trim()
        .parse()
        .map_err(|_| format!("`{a}` is not a year"))?;
    let end: i16 = b
        .trim()
        .parse()
        .map_err(|_| format!("`{b}` is not a year"))?;
    if first >= end {
        return Err(format!(
            "the first year {first} must be before the end year {end}"
        ));
    }
    Ok((first, end))
}

fn parse_bandwidth(text: &str) -> Result<Bandwidth, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "scott" => Ok(Bandwidth::Scott),
        "silverman" => Ok(Bandwidth::Silverman),
        days => match days.parse::<f64>() {
            Ok(h) if h > 0.0 && h.is_finite() => Ok(Bandwidth::FixedDays(h)),
            _ => Err(format!(
                "expected scott, silverman or a positive number of days, got `{text}`"
            )),
        },
    }
}

fn parse_region(text: &str) -> Result<Region, String> {
    Region::parse(text).map_err(|e| e.to_string())
}
