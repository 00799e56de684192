{{/* The enabled components as a list of dicts: name, values, kind of workload. */}}
{{- define "ias.components" -}}
{{- $routerKind := ternary "StatefulSet" "Deployment" .Values.router.spool.persistent -}}
{{- $list := list (dict "name" "router" "values" .Values.router "kind" $routerKind "port" "http") (dict "name" "control" "values" .Values.control "kind" "Deployment" "port" "http") -}}
{{- if .Values.analytics.enabled -}}
{{- $list = append $list (dict "name" "analytics" "values" .Values.analytics "kind" "Deployment" "port" "http") -}}
{{- end -}}
{{- if .Values.usageWorker.enabled -}}
{{- $list = append $list (dict "name" "usage-worker" "values" .Values.usageWorker "kind" "Deployment" "port" "metrics") -}}
{{- end -}}
{{- toJson $list -}}
{{- end -}}
