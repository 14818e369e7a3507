//! Generated orders: the deterministic stream behind `random_order` (the same seed and `n` always give the
//! same spec), the cart features [`OrderKinds`] adds to it, and the seeded history.

use rand::Rng;
use rust_decimal::Decimal;
use time::{Duration, OffsetDateTime};

use super::seed::{self, SimRng, Stream, status};
use super::spec::{
    AddressSpec, Defect, LineSpec, OptionSpec, OrderEdit, OrderKinds, OrderMix, OrderSpec, SkuKind,
};
use super::store::Store;

/// Currencies `random_order` uses for foreign orders.
// guess: CZK is served but not drawn: its prices are ~23× the catalogue's USD prices, which a validator comparing
// unit prices with SKUPrice (main currency) would flag.
const FOREIGN: &[&str] = &["EUR", "GBP", "CAD"];

/// Gift-card values generated orders redeem (main currency).
const GIFT_CARD_VALUES: &[i64] = &[10, 25, 50, 100];

/// Texts customers have engraved.
const ENGRAVINGS: &[&str] = &["For Anna", "Happy 30th!", "Best barista", "J & M"];

impl Store {
    /// Number of SKUs that are plain products (the first ones of the catalogue): generated lines use only these,
    /// so the options and bundles added later did not change any seed's orders.
    fn plain_products(&self) -> usize {
        self.skus
            .iter()
            .take_while(|s| s.kind == SkuKind::Product)
            .count()
    }

    /// The `n`-th order of the deterministic stream: same seed and `n`, same spec.
    pub(crate) fn random_order(&self, n: u64, mix: &OrderMix) -> OrderSpec {
        let mut r = seed::rng(self.seed, Stream::RandomOrder, n);
        let customer = r.gen_range(0..self.registered) as i64 + 1;
        let foreign = r.gen_bool(mix.foreign_currency.clamp(0.0, 1.0));
        let currency = FOREIGN[r.gen_range(0..FOREIGN.len())];
        let count = r.gen_range(1..=3);
        let products = self.plain_products();
        let mut lines: Vec<LineSpec> = (0..count)
            .map(|_| LineSpec {
                sku_id: r.gen_range(0..products) as i64 + 1,
                quantity: r.gen_range(1..=3),
            })
            .collect();
        let paid = r.gen_bool(mix.paid.clamp(0.0, 1.0));
        let invalid = r.gen_bool(mix.invalid.clamp(0.0, 1.0));
        let defect = Defect::ALL[r.gen_range(0..Defect::ALL.len())];
        let defect = invalid.then_some(defect);
        match defect {
            Some(Defect::EmptyOrder) => lines.clear(),
            Some(Defect::NegativeQuantity) => {
                // A correction line taking one unit of the first product back.
                lines.truncate(1);
                lines[0].quantity = lines[0].quantity.max(2);
                lines.push(LineSpec {
                    sku_id: lines[0].sku_id,
                    quantity: -1,
                });
            }
            _ => {}
        }
        OrderSpec {
            customer_id: Some(customer),
            currency: foreign.then(|| currency.to_owned()),
            lines,
            paid,
            status: None,
            defect,
            ..OrderSpec::default()
        }
    }

    /// [`Store::random_order`] with cart features drawn from `kinds` (a separate random stream, so the base
    /// order is the same as without them). Orders with a defect get no features.
    pub(crate) fn random_order_with(
        &self,
        n: u64,
        mix: &OrderMix,
        kinds: &OrderKinds,
    ) -> OrderSpec {
        let mut spec = self.random_order(n, mix);
        if spec.defect.is_some() {
            return spec;
        }
        let mut r = seed::rng(self.seed, Stream::Kinds, n);
        let mut roll = |p: f64| r.gen_bool(p.clamp(0.0, 1.0));
        let (
            discounted,
            volume,
            coupon,
            order_discount,
            gift_card,
            options,
            bundle,
            free,
            multibuy,
            edited,
            cancelled,
        ) = (
            roll(kinds.discounted),
            roll(kinds.volume),
            roll(kinds.coupon),
            roll(kinds.order_discount),
            roll(kinds.gift_card),
            roll(kinds.options),
            roll(kinds.bundle),
            roll(kinds.free_shipping),
            roll(kinds.multibuy),
            roll(kinds.edited),
            roll(kinds.cancelled),
        );
        // SKU ids below are the seeded catalogue's: 1–8 coffee, 9–14 and 16 brewing gear, 15 the mug.
        let coffee = |r: &mut SimRng| r.gen_range(1..=8);
        if multibuy {
            spec.multibuy = true;
            let sku_id = coffee(&mut r);
            spec.lines.push(LineSpec {
                sku_id,
                quantity: r.gen_range(3..=4),
            });
        }
        if volume {
            spec.volume_discounts = true;
            let sku_id = coffee(&mut r);
            spec.lines.push(LineSpec {
                sku_id,
                quantity: r.gen_range(5..=12),
            });
        }
        if discounted {
            spec.catalog_discounts = true;
            if !spec.lines.iter().any(|l| l.sku_id <= 16) {
                spec.lines.push(LineSpec {
                    sku_id: r.gen_range(1..=16),
                    quantity: 1,
                });
            }
        }
        if bundle {
            let bundles: Vec<i64> = self
                .skus
                .iter()
                .filter(|s| s.kind == SkuKind::Bundle)
                .map(|s| s.id)
                .collect();
            if !bundles.is_empty() {
                spec.lines.push(LineSpec {
                    sku_id: bundles[r.gen_range(0..bundles.len())],
                    quantity: 1,
                });
            }
        }
        if options {
            self.add_option(&mut spec, &mut r);
        }
        if coupon {
            let subtotal: Decimal = spec
                .lines
                .iter()
                .filter_map(|l| {
                    Some(
                        self.skus.iter().find(|s| s.id == l.sku_id)?.price
                            * Decimal::from(l.quantity),
                    )
                })
                .sum();
            let gear = spec
                .lines
                .iter()
                .any(|l| (9..=14).contains(&l.sku_id) || l.sku_id == 16);
            let code = match r.gen_range(0..3) {
                0 if subtotal >= Decimal::from(90) => "SAVE15",
                1 if gear => "BREW10",
                _ => "WELCOME10",
            };
            spec.coupons.push(code.to_owned());
        }
        spec.order_discount = order_discount;
        if free {
            if r.gen_bool(0.5) {
                spec.free_shipping = true;
            } else {
                spec.coupons.push("FREESHIP".to_owned());
            }
        }
        if gift_card {
            let v = GIFT_CARD_VALUES[r.gen_range(0..GIFT_CARD_VALUES.len())];
            spec.gift_card = Some(Decimal::from(v));
        }
        if edited {
            spec.then_edit = Some(self.random_edit(&spec, &mut r));
        }
        spec.then_cancel = cancelled;
        spec
    }

    /// Gives a line an option it allows; adds a coffee line when no line allows one.
    fn add_option(&self, spec: &mut OrderSpec, r: &mut SimRng) {
        let options: Vec<_> = self
            .skus
            .iter()
            .filter(|s| !s.option_for.is_empty())
            .collect();
        let fits = |spec: &OrderSpec| -> Vec<(usize, i64, SkuKind)> {
            spec.lines
                .iter()
                .enumerate()
                .flat_map(|(i, l)| {
                    options
                        .iter()
                        .filter(move |o| o.option_for.contains(&l.sku_id))
                        .map(move |o| (i, o.id, o.kind))
                })
                .collect()
        };
        let mut candidates = fits(spec);
        if candidates.is_empty() {
            spec.lines.push(LineSpec {
                sku_id: r.gen_range(1..=8),
                quantity: 1,
            });
            candidates = fits(spec);
        }
        if candidates.is_empty() {
            return;
        }
        let (line, sku_id, kind) = candidates[r.gen_range(0..candidates.len())];
        let text = (kind == SkuKind::TextOption)
            .then(|| ENGRAVINGS[r.gen_range(0..ENGRAVINGS.len())].to_owned());
        spec.options.push(OptionSpec { line, sku_id, text });
    }

    /// A typical admin edit: one more unit of a line, a line removed, a product added, or a new shipping
    /// address.
    fn random_edit(&self, spec: &OrderSpec, r: &mut SimRng) -> OrderEdit {
        let mut lines = spec.lines.clone();
        match r.gen_range(0..4) {
            0 if !lines.is_empty() => {
                let i = r.gen_range(0..lines.len());
                lines[i].quantity += 1;
            }
            1 if lines.len() > 1 => {
                lines.pop();
            }
            0..=2 => lines.push(LineSpec {
                sku_id: r.gen_range(0..self.plain_products()) as i64 + 1,
                quantity: r.gen_range(1..=2),
            }),
            _ => {
                let place = seed::place(r, &self.states);
                let country_code = self
                    .countries
                    .iter()
                    .find(|c| c.id == place.country_id)
                    .and_then(|c| c.two_letter.clone())
                    .unwrap_or_default();
                let state_code = place
                    .state_id
                    .and_then(|s| self.states.iter().find(|x| x.id == s))
                    .and_then(|s| s.code.clone());
                let address = AddressSpec {
                    personal_name: String::new(),
                    line1: place.line1,
                    line2: place.line2,
                    city: place.city,
                    zip: place.zip,
                    country_code,
                    state_code,
                };
                let ships = lines.iter().any(|l| {
                    self.skus
                        .iter()
                        .any(|s| s.id == l.sku_id && s.needs_shipping)
                });
                return if ships {
                    OrderEdit {
                        shipping_address: Some(address),
                        ..OrderEdit::default()
                    }
                } else {
                    OrderEdit {
                        billing_address: Some(address),
                        ..OrderEdit::default()
                    }
                };
            }
        }
        OrderEdit {
            lines: Some(lines),
            ..OrderEdit::default()
        }
    }

    /// `n` valid orders spread over `[from, to)`, with the statuses a store accumulates: most completed and paid,
    /// some new, a few canceled or failed. No events.
    pub(crate) fn seed_history(&mut self, n: usize, from: OffsetDateTime, to: OffsetDateTime) {
        if n == 0 {
            return;
        }
        let span = (to - from).whole_seconds().max(1) as f64;
        let mix = OrderMix {
            invalid: 0.0,
            foreign_currency: 0.3,
            paid: 0.0,
        };
        let step = span / n as f64;
        for k in 0..n {
            let mut r = seed::rng(self.seed, Stream::History, k as u64);
            let spec = self.random_order(u64::MAX - k as u64, &mix);
            let offset = (step * k as f64) as i64 + r.gen_range(0..step.max(1.0) as i64);
            let at =
                from + Duration::seconds(offset) + Duration::milliseconds(r.gen_range(0..1000));
            let (i, _) = self.checkout(&spec, at);
            let later = at + Duration::minutes(r.gen_range(1..30));
            let target = match r.gen_range(0..20) {
                0..=2 => status::NEW,
                3..=7 => status::PAYMENT_RECEIVED,
                8..=10 => status::IN_PROGRESS,
                11..=17 => status::COMPLETED,
                18 => status::CANCELED,
                _ => status::PAYMENT_FAILED,
            };
            if [
                status::PAYMENT_RECEIVED,
                status::IN_PROGRESS,
                status::COMPLETED,
            ]
            .contains(&target)
            {
                self.pay(i, later);
            }
            if let Some(s) = self.status_by_name(target).map(|s| s.id) {
                let order = &mut self.orders[i];
                order.status_id = s;
                order.last_modified = later;
            }
        }
    }
}
