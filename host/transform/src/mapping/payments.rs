//! The payments of a paid order: one per gift card Kentico applied (`OrderOtherPayments`), then the gateway
//! payment for the rest, which settles the invoice to the cent.

use super::{MappingConfig, Pricing};
use ferry_model::{Decimal, Drafts, Money, Order, PaymentDraft};

/// The gateway payment and the gift-card payments of a paid order (none for an unpaid one). Amounts are settled
/// against the invoice afterwards ([`settle_payment`]).
pub(super) fn payments(
    order: &Order,
    settings: &MappingConfig,
    price: &Pricing<'_>,
) -> (Option<PaymentDraft>, Vec<PaymentDraft>) {
    if !order.payment.is_paid {
        return (None, Vec::new());
    }
    let date = order.payment.paid_at.unwrap_or(order.last_modified).date();
    let codes: Vec<&str> = order
        .coupon_codes
        .iter()
        .filter(|c| c.gift_card_value.is_some())
        .map(|c| c.code.as_str())
        .collect();
    let gift_cards = order
        .other_payments
        .iter()
        .enumerate()
        .map(|(i, card)| PaymentDraft {
            amount: price.money(card.amount),
            date,
            method: settings.gift_card_payment_type.clone(),
            note: match codes.get(i) {
                Some(code) => format!("{} {code}, Kentico order {}", card.name, order.number),
                None => format!("{}, Kentico order {}", card.name, order.number),
            },
            transaction_id: String::new(),
        })
        .collect();
    let gateway = PaymentDraft {
        amount: price.money(order.payment.amount.amount),
        date,
        method: settings
            .payment_types
            .get(&order.payment.method)
            .cloned()
            .unwrap_or_else(|| settings.default_payment_type.clone()),
        note: format!("Kentico order {}", order.number),
        transaction_id: order.payment.transaction_id.clone(),
    };
    (Some(gateway), gift_cards)
}

/// A paid order settles its invoice: the gateway payment is what FreshBooks will total the invoice at
/// ([`ferry_model::InvoiceDraft::amount`]) less the gift-card payments, in the invoice's currency. Kentico's own
/// grand total, converted separately, could differ from the converted lines by a cent and leave the invoice short
/// or overpaid. When gift cards cover everything there is no gateway payment; and when the cards, each converted
/// and rounded on its own, come to more than the invoice, the last ones are lowered (and dropped at zero) so they
/// pay it exactly instead of leaving an overpayment FreshBooks would book as client credit.
pub fn settle_payment(drafts: &mut Drafts) {
    let invoice = drafts.invoice.amount();
    let cards: Decimal = drafts.gift_cards.iter().map(|p| p.amount.amount).sum();
    let mut excess = cards - invoice;
    while excess > Decimal::ZERO {
        let Some(last) = drafts.gift_cards.last_mut() else {
            break;
        };
        let cut = excess.min(last.amount.amount);
        last.amount.amount -= cut;
        excess -= cut;
        if last.amount.amount <= Decimal::ZERO {
            drafts.gift_cards.pop();
        }
    }
    let cards: Decimal = drafts.gift_cards.iter().map(|p| p.amount.amount).sum();
    let rest = invoice - cards;
    if rest <= Decimal::ZERO {
        drafts.payment = None;
    } else if let Some(payment) = drafts.payment.as_mut() {
        payment.amount = Money::new(rest, drafts.invoice.currency_code.clone());
    }
}
