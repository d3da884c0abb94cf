{{/* Names, labels and the pieces every pod shares. */}}

{{- define "testfleet.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "testfleet.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one component: include with (dict "root" $ "component" "worker"). */}}
{{- define "testfleet.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "testfleet.image" -}}
{{- $registry := .root.Values.image.registry -}}
{{- $ref := printf "%s:%s" .image.repository (default .root.Chart.AppVersion .image.tag) -}}
{{- if $registry }}{{ printf "%s/%s" $registry $ref }}{{ else }}{{ $ref }}{{ end -}}
{{- end -}}

{{- define "testfleet.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "testfleet.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "testfleet.aggregatorUrl" -}}
{{- printf "http://%s-aggregator:%d" (include "testfleet.fullname" .) (int .Values.aggregator.port) -}}
{{- end -}}

{{/* The Secret holding each service's --config file (its `kafka:` map), or "" when there is none. */}}
{{- define "testfleet.kafkaConfigSecret" -}}
{{- if .Values.kafka.existingConfigSecret -}}
{{- .Values.kafka.existingConfigSecret -}}
{{- else if .Values.kafka.properties -}}
{{- printf "%s-kafka" (include "testfleet.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* Flags every service takes (common/cli_options.cc), one list item per argument. */}}
{{- define "testfleet.clusterArgs" -}}
- --brokers={{ .Values.kafka.brokers }}
- --topic-prefix={{ .Values.kafka.topicPrefix }}
{{- if include "testfleet.kafkaConfigSecret" . }}
- --config=/etc/testfleet/config/config.yaml
{{- end }}
{{- end -}}

{{/* Volumes and mounts for the Kafka config file and TLS files. */}}
{{- define "testfleet.kafkaVolumes" -}}
{{- with include "testfleet.kafkaConfigSecret" . }}
- name: kafka-config
  secret:
    secretName: {{ . }}
    defaultMode: 0400
{{- end }}
{{- with .Values.kafka.tlsSecret }}
- name: kafka-tls
  secret:
    secretName: {{ . }}
    defaultMode: 0444
{{- end }}
{{- end -}}

{{- define "testfleet.kafkaMounts" -}}
{{- if include "testfleet.kafkaConfigSecret" . }}
- name: kafka-config
  mountPath: /etc/testfleet/config
  readOnly: true
{{- end }}
{{- if .Values.kafka.tlsSecret }}
- name: kafka-tls
  mountPath: /etc/testfleet/kafka-tls
  readOnly: true
{{- end }}
{{- end -}}

{{/* Egress every pod needs: DNS and the brokers. */}}
{{- define "testfleet.baseEgress" -}}
- ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
- ports:
  {{- range .Values.kafka.ports }}
    - port: {{ . }}
      protocol: TCP
  {{- end }}
  {{- with .Values.kafka.networkPeers }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}

{{/* The autoscaler's ceiling: the most workers that can hold a jobs partition. */}}
{{- define "testfleet.workerMaxReplicas" -}}
{{- min (int .Values.worker.autoscaling.maxReplicas) (int .Values.kafka.jobsPartitions) -}}
{{- end -}}
