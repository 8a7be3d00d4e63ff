---
version: '2'
catalog:
  name: Prometheus
  version: 2.42.0-paddock1
  description: Prometheus, Alertmanager, node exporters, Pushgateway and blackbox exporter
  questions:
    - variable: prometheus_port
      label: Prometheus port
      description: The load balancer's port for Prometheus
      type: int
      min: 1
      max: 65535
      default: 9090
      required: true
    - variable: alertmanager_port
      label: Alertmanager port
      type: int
      min: 1
      max: 65535
      default: 9093
      required: true
    - variable: pushgateway_port
      label: Pushgateway port
      type: int
      min: 1
      max: 65535
      default: 9091
      required: true
    - variable: scrape_interval
      label: Scrape interval (seconds)
      type: int
      min: 1
      max: 300
      default: 15
      required: true
    - variable: alert_after
      label: Seconds a target is down before it alerts
      type: int
      min: 0
      default: 60
      required: true
    - variable: retention
      label: How long to keep data
      type: enum
      options: [1d, 7d, 15d, 30d, 90d]
      default: 15d
      required: true
    - variable: blackbox_enabled
      label: Blackbox exporter
      description: Probe a URL from inside the stack (blackbox exporter)
      type: boolean
      default: true
    - variable: probe_url
      label: URL the blackbox exporter probes
      type: string
      default: http://prometheus:9090/-/healthy
      required: true
      invalid_chars: "' "
    - variable: alertmanager_config
      label: Alertmanager configuration
      description: Routes and receivers (alertmanager.yml); by default alerts are kept, not sent
      type: multiline
      required: true
      default: |
        route: {receiver: default, group_wait: 10s, repeat_interval: 4h}
        receivers:
          - name: default
services:
  prometheus:
    scale: 1
    health_check:
      port: 9090
      request_line: GET /-/ready HTTP/1.0
      interval: 2000
      response_timeout: 2000
      healthy_threshold: 2
      unhealthy_threshold: 3
  alertmanager:
    scale: 1
    health_check:
      port: 9093
      request_line: GET /-/ready HTTP/1.0
      interval: 2000
      response_timeout: 2000
      healthy_threshold: 2
      unhealthy_threshold: 3
  pushgateway:
    scale: 1
{{- if eq .Values.blackbox_enabled "true" }}
  blackbox-exporter:
    scale: 1
{{- end }}
  prometheus-lb:
    lb_config:
      port_rules:
        - {protocol: http, service: prometheus, source_port: '${prometheus_port}', target_port: 9090}
        - {protocol: http, service: alertmanager, source_port: '${alertmanager_port}', target_port: 9093}
        - {protocol: http, service: pushgateway, source_port: '${pushgateway_port}', target_port: 9091}
    health_check:
      port: 42
      interval: 2000
      response_timeout: 2000
      healthy_threshold: 2
      unhealthy_threshold: 3
