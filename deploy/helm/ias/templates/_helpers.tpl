{{/* Names */}}
{{- define "ias.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "ias.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* "<fullname>-<component>", e.g. ias-router. Call with (dict "root" $ "component" "router"). */}}
{{- define "ias.componentName" -}}
{{- printf "%s-%s" (include "ias.fullname" .root) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "ias.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels */}}
{{- define "ias.labels" -}}
helm.sh/chart: {{ include "ias.chart" . }}
app.kubernetes.io/name: {{ include "ias.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: ias
{{- end -}}

{{- define "ias.componentLabels" -}}
{{ include "ias.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "ias.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ias.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Pod metadata: labels the scraper and log shipper select on, scrape annotations. */}}
{{- define "ias.podMetadata" -}}
labels:
  {{- include "ias.componentLabels" . | nindent 2 }}
  {{- with .root.Values.podLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
annotations:
  checksum/config: {{ include (print .root.Template.BasePath "/configmap.yaml") .root | sha256sum }}
  {{- if .root.Values.metrics.scrapeAnnotations }}
  prometheus.io/scrape: "true"
  prometheus.io/port: {{ .metricsPort | quote }}
  prometheus.io/path: /metrics
  {{- end }}
  {{- with .root.Values.podAnnotations }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end -}}

{{- define "ias.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "ias.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "ias.secretName" -}}
{{- if .Values.secrets.existingSecret -}}
{{- .Values.secrets.existingSecret -}}
{{- else -}}
{{- printf "%s-env" (include "ias.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "ias.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* Environment shared by every IAS container: the ConfigMap, then the Secret. */}}
{{- define "ias.envFrom" -}}
- configMapRef:
    name: {{ include "ias.fullname" . }}-config
- secretRef:
    name: {{ include "ias.secretName" . }}
{{- end -}}

{{/* Per-component extra environment, from a NAME: value map. */}}
{{- define "ias.extraEnv" -}}
{{- range $name, $value := . }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end -}}

{{/* The pod-level parts every IAS pod shares. Call with (dict "root" $ "values" .Values.router). */}}
{{- define "ias.podCommon" -}}
serviceAccountName: {{ include "ias.serviceAccountName" .root }}
automountServiceAccountToken: false
enableServiceLinks: false
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .root.Values.podSecurityContext | nindent 2 }}
terminationGracePeriodSeconds: {{ .values.terminationGracePeriodSeconds }}
{{- with .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* HTTP probes: liveness on /health (the process answers, touching nothing); readiness on
the component's readinessPath (/ready: every store it needs answers). Call with the component's values. */}}
{{- define "ias.httpProbes" -}}
startupProbe:
  httpGet:
    path: /health
    port: http
  periodSeconds: 2
  failureThreshold: 60
livenessProbe:
  httpGet:
    path: /health
    port: http
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 3
readinessProbe:
  httpGet:
    path: {{ .readinessPath }}
    port: http
  periodSeconds: 5
  timeoutSeconds: 4
  failureThreshold: 3
{{- end -}}

{{/* Fail the render early, naming what is missing. */}}
{{- define "ias.validate" -}}
{{- if not .Values.secrets.existingSecret -}}
{{- range $key := list "databaseUrl" "redisUrl" "rabbitmqUrl" "jwtSecret" "apiKeySecret" "encryptionKey" -}}
{{- if not (index $.Values.secrets $key) -}}
{{- fail (printf "set secrets.%s, or name a Secret holding every IAS_* secret in secrets.existingSecret" $key) -}}
{{- end -}}
{{- end -}}
{{- range $key := list "jwtSecret" "apiKeySecret" "encryptionKey" -}}
{{- if lt (len (index $.Values.secrets $key)) 32 -}}
{{- fail (printf "secrets.%s must be at least 32 characters" $key) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if and (not .Values.analytics.enabled) (not .Values.usageWorker.enabled) -}}
{{- fail "enable analytics or usageWorker: without a consumer no usage reaches the ledger" -}}
{{- end -}}
{{- end -}}
