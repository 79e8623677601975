//! Prices: the catalog (data), `Usage` (metered quantities) and the engine that turns
//! one into a `Bill`. Nothing outside this room multiplies by a price.

pub mod bill;
pub mod catalog;
pub mod service;
pub mod usage;

pub use bill::{price, price_month, price_projected, Bill, LineItem, MonthlyBill, HOURS_PER_MONTH};
pub use catalog::{Architecture, Catalog};
pub use service::Service;
pub use usage::Usage;
