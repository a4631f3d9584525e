//! One module per input format of SPEC §2.

pub mod alec;
pub mod alertmanager;
pub mod azure;
pub mod cloudevents;
pub mod cloudwatch;
pub mod datadog;
pub mod dynatrace;
pub mod gcp;
pub mod grafana;
pub mod icinga2;
pub mod nagios;
pub mod native;
pub mod splunk;
pub mod zabbix;
