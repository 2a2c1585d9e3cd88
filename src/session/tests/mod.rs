//! Session tests: a scripted broker (`harness`) drives the session packet by packet on a
//! virtual clock, asserting bytes, events and their order.

mod connect;
mod harness;
mod ids;
mod input;
mod publish_in;
mod publish_out;
mod queue;
mod reconnect;
mod subscribe;
mod timers;
mod v5_connect;
mod v5_flows;
