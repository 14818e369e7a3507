//! End-to-end journeys.
