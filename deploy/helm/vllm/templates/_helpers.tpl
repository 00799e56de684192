{{- define "vllm.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "vllm.fullname" -}}
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

{{/* "<fullname>-<model name>". Call with (dict "root" $ "model" $model). */}}
{{- define "vllm.modelFullname" -}}
{{- printf "%s-%s" (include "vllm.fullname" .root) .model.name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "vllm.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "vllm.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: ias
{{- end -}}

{{- define "vllm.selectorLabels" -}}
app.kubernetes.io/name: {{ include "vllm.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: engine
ias.dev/model: {{ .model.name }}
{{- end -}}

{{- define "vllm.modelLabels" -}}
{{ include "vllm.labels" .root }}
app.kubernetes.io/component: engine
ias.dev/model: {{ .model.name }}
{{- end -}}

{{- define "vllm.image" -}}
{{- if .digest -}}
{{- printf "%s@%s" .repository .digest -}}
{{- else -}}
{{- printf "%s:%s" .repository (toString .tag) -}}
{{- end -}}
{{- end -}}

{{/* The models with modelDefaults filled in, as a JSON list. */}}
{{- define "vllm.models" -}}
{{- $out := list -}}
{{- range $model := .Values.models -}}
{{- $merged := mustMergeOverwrite (deepCopy $.Values.modelDefaults) $model -}}
{{- if lt (int $merged.gpus) (int $merged.tensorParallelSize) -}}
{{- fail (printf "model %s: gpus (%v) must be at least tensorParallelSize (%v)" $model.name $merged.gpus $merged.tensorParallelSize) -}}
{{- end -}}
{{- if and $.Values.cache.persistent (gt (int $merged.replicas) 1) (not (has "ReadWriteMany" $.Values.cache.accessModes)) -}}
{{- fail (printf "model %s: %v replicas cannot share a ReadWriteOnce cache volume; use a ReadWriteMany storage class or cache.persistent=false" $model.name $merged.replicas) -}}
{{- end -}}
{{- $out = append $out $merged -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{- define "vllm.backendUrl" -}}
{{- if .root.Values.registration.backendBaseUrl -}}
{{- printf "%s/%s/v1" (trimSuffix "/" .root.Values.registration.backendBaseUrl) (include "vllm.modelFullname" .) -}}
{{- else -}}
{{- printf "http://%s.%s.svc.cluster.local:%v/v1" (include "vllm.modelFullname" .) .root.Release.Namespace .root.Values.service.port -}}
{{- end -}}
{{- end -}}
