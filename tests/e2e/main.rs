//! End-to-end tests: the real `ledgerd` and `etctl` binaries, on 127.0.0.1:0, with temp dirs.
//! One module per workflow; `common` holds the harness.

mod common;
mod interop;
mod ledgerd;
mod tls;

// etctl: one module per workflow, and their shared helpers.
mod etctl_api;
mod etctl_db;
mod etctl_policy;
mod etctl_policy_api;
mod etctl_rotate;
mod etctl_scripting;
mod etctl_support;
mod etctl_vendor;

// Issue 10: the operator's experience; terminal behaviour in a real terminal (tmux).
mod install;
mod operator_ux;
mod terminal;

// Reliability (issue 5): hostile input to etctl.
mod hostile_cli;

// Reliability (issues 5, 11): hostile HTTP, idle and slow connections, races, crashes, database
// faults, secret hygiene, limits.
mod connections;
mod crash;
mod db_faults;
mod db_files;
mod dev_mode;
mod hand_sql;
mod hardening;
mod hostile_http;
mod metrics;
mod pg_docs;
mod pg_failover;
mod pg_tls;
mod policy;
mod postgres;
mod proxies;
mod races;
mod request_id;
mod secrets;
mod single_owner;
mod unread_body;
