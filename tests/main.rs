//! Black-box tests of Samverkan: each test starts the real router over a fresh database and
//! speaks GraphQL over HTTP. Set `TEST_DATABASE_URL=postgres://...` to run them on PostgreSQL.

mod access;
mod auth;
mod authorities;
mod backup;
mod caching;
mod connections;
mod dialogues;
mod durability;
mod evidence;
mod faults;
mod goals;
mod hardening;
mod http;
mod instances;
mod organisations;
mod pagination;
mod plans;
mod proposals;
mod reports;
mod schema;
mod search;
mod seed;
mod statements;
mod subscriptions;
mod webhooks;
mod widget;
