{{/*
The pod template of one IAS process. Call with a dict:
  root       the top-level context ($)
  component  router | control | analytics | usage-worker
  values     that component's values
  args       the `ias` arguments, e.g. (list "serve" "router")
  http       true when the process serves HTTP (/health, /ready, /metrics) on port 8000
  env        extra container environment (a list of name/value maps)
  spool      "" (none), "volume" (a volumeClaimTemplate named spool) or "emptyDir"
*/}}
{{- define "ias.podTemplate" -}}
{{- $root := .root -}}
{{- $metricsPort := ternary $root.Values.service.port .values.metricsPort .http -}}
metadata:
  {{- include "ias.podMetadata" (dict "root" $root "component" .component "metricsPort" $metricsPort) | nindent 2 }}
spec:
  {{- include "ias.podCommon" (dict "root" $root "values" .values) | nindent 2 }}
  containers:
    - name: {{ .component }}
      image: {{ include "ias.image" $root }}
      imagePullPolicy: {{ $root.Values.image.pullPolicy }}
      args:
        {{- toYaml .args | nindent 8 }}
      envFrom:
        {{- include "ias.envFrom" $root | nindent 8 }}
      env:
        - name: TMPDIR
          value: /tmp
        {{- with .env }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
        {{- with .values.env }}
        {{- include "ias.extraEnv" . | nindent 8 }}
        {{- end }}
      {{- if .http }}
      ports:
        - name: http
          containerPort: {{ $root.Values.service.port }}
          protocol: TCP
      {{- include "ias.httpProbes" .values | nindent 6 }}
      {{- else }}
      ports:
        - name: metrics
          containerPort: {{ .values.metricsPort }}
          protocol: TCP
      # No HTTP server: alive while it serves its metrics port.
      startupProbe:
        tcpSocket:
          port: metrics
        periodSeconds: 2
        failureThreshold: 60
      livenessProbe:
        tcpSocket:
          port: metrics
        periodSeconds: 10
        timeoutSeconds: 3
        failureThreshold: 3
      readinessProbe:
        tcpSocket:
          port: metrics
        periodSeconds: 10
        timeoutSeconds: 3
      {{- end }}
      resources:
        {{- toYaml .values.resources | nindent 8 }}
      securityContext:
        {{- toYaml $root.Values.securityContext | nindent 8 }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
        {{- if .spool }}
        - name: spool
          mountPath: /var/lib/ias/spool
        {{- end }}
  volumes:
    - name: tmp
      emptyDir:
        sizeLimit: 256Mi
    {{- if eq .spool "emptyDir" }}
    - name: spool
      emptyDir:
        sizeLimit: {{ .values.spool.size }}
    {{- end }}
{{- end -}}
