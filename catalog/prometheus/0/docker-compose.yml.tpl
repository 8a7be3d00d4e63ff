---
# Prometheus and its companions, in the shape of Rancher's community catalog entry
# (templates/Prometheus): there, a `prom-conf` sidekick wrote the configuration into a volume
# shared with Prometheus, and a data-volume sidekick kept the data. Swarm has no sidekicks,
# so here the configuration travels in an environment variable that each entrypoint writes
# out before starting, and the data lives in named volumes. Scrape targets are found through
# Swarm DNS (tasks.<stack>_<service>), so scaling or adding hosts needs no change. As in
# Rancher 1.5 and later, the file is a Go template: the blackbox exporter is optional. Swarm
# reads double braces in environment values as its own templates (and Rancher read them as
# catalog templates), so the alert rules use none.
version: '2'
services:
  prometheus:
    image: prom/prometheus:v2.42.0
    entrypoint: ["/bin/sh", "-c"]
    command:
      - >-
        printf '%s\n' "$$PROMETHEUS_CONFIG" > /prometheus/prometheus.yml &&
        printf '%s\n' "$$PROMETHEUS_RULES" > /prometheus/rules.yml &&
        exec /bin/prometheus --config.file=/prometheus/prometheus.yml --storage.tsdb.path=/prometheus/data
        --storage.tsdb.retention.time=${retention} --web.enable-lifecycle
    environment:
      PROMETHEUS_CONFIG: |
        global:
          scrape_interval: ${scrape_interval}s
          evaluation_interval: ${scrape_interval}s
          external_labels: {stack: ${stack_name}}
        rule_files: [/prometheus/rules.yml]
        alerting:
          alertmanagers:
            - dns_sd_configs: [{names: [tasks.${stack_name}_alertmanager], type: A, refresh_interval: 10s, port: 9093}]
        scrape_configs:
          - job_name: prometheus
            static_configs: [{targets: ['localhost:9090']}]
          - job_name: node
            dns_sd_configs: [{names: [tasks.${stack_name}_node-exporter], type: A, refresh_interval: 10s, port: 9100}]
          - job_name: pushgateway
            honor_labels: true
            dns_sd_configs: [{names: [tasks.${stack_name}_pushgateway], type: A, refresh_interval: 10s, port: 9091}]
          - job_name: alertmanager
            dns_sd_configs: [{names: [tasks.${stack_name}_alertmanager], type: A, refresh_interval: 10s, port: 9093}]
{{- if eq .Values.blackbox_enabled "true" }}
          - job_name: blackbox
            metrics_path: /probe
            params: {module: [http_2xx]}
            static_configs: [{targets: ['${probe_url}']}]
            relabel_configs:
              - {source_labels: [__address__], target_label: __param_target}
              - {source_labels: [__param_target], target_label: instance}
              - {target_label: __address__, replacement: 'blackbox-exporter:9115'}
{{- end }}
      PROMETHEUS_RULES: |
        groups:
          - name: paddock
            rules:
              - alert: InstanceDown
                expr: up == 0
                for: ${alert_after}s
                labels: {severity: page}
                annotations: {summary: A scrape target is down; its job and instance labels say which}
    volumes:
      - prometheus-data:/prometheus
  alertmanager:
    image: prom/alertmanager:v0.25.0
    entrypoint: ["/bin/sh", "-c"]
    command:
      - >-
        printf '%s\n' "$$ALERTMANAGER_CONFIG" > /alertmanager/alertmanager.yml &&
        exec /bin/alertmanager --config.file=/alertmanager/alertmanager.yml --storage.path=/alertmanager/data
    environment:
      ALERTMANAGER_CONFIG: ${alertmanager_config}
    volumes:
      - alertmanager-data:/alertmanager
  node-exporter:
    image: prom/node-exporter:v1.5.0
    entrypoint: ["/bin/node_exporter"]
    command: ["--path.rootfs=/host", "--collector.disable-defaults", "--collector.cpu", "--collector.meminfo",
              "--collector.loadavg", "--collector.filesystem", "--collector.uname", "--collector.time"]
    volumes:
      - /:/host:ro
    labels:
      io.rancher.scheduler.global: 'true'
  pushgateway:
    image: prom/pushgateway:v1.5.1
    entrypoint: ["/bin/pushgateway"]
{{- if eq .Values.blackbox_enabled "true" }}
  blackbox-exporter:
    image: prom/blackbox-exporter:v0.23.0
    entrypoint: ["/bin/sh", "-c"]
    command:
      - >-
        printf '%s\n' "$$BLACKBOX_CONFIG" > /tmp/blackbox.yml &&
        exec /bin/blackbox_exporter --config.file=/tmp/blackbox.yml
    environment:
      BLACKBOX_CONFIG: |
        modules:
          http_2xx: {prober: http, timeout: 5s, http: {preferred_ip_protocol: ip4}}
{{- end }}
  prometheus-lb:
    image: rancher/lb-service-haproxy:v0.7.15
    ports:
      - ${prometheus_port}:${prometheus_port}
      - ${alertmanager_port}:${alertmanager_port}
      - ${pushgateway_port}:${pushgateway_port}
volumes:
  prometheus-data:
    driver: local
  alertmanager-data:
    driver: local
