package pod

import (
	"sort"
	"strings"
)

// Support says what podunit does with a field of the Pod API.
type Support int

const (
	// Rejected fields make the manifest invalid: podunit cannot do what they ask,
	// and running the pod without it would surprise the user.
	Rejected Support = iota
	// Honoured fields are carried out with Kubernetes semantics.
	Honoured
	// Ignored fields are accepted with a warning: they have no meaning on one host
	// (scheduling, cluster identity) or are output-only.
	Ignored
)

type rule struct {
	support Support
	subtree bool   // the rule covers every field below, e.g. free-form maps
	note    string // why, for Ignored and Rejected
}

// Rules for fields of a container, shared by spec.containers and (where noted)
// spec.initContainers. Paths are relative to the container.
var containerRules = map[string]rule{
	"name":                                  {support: Honoured},
	"image":                                 {support: Honoured},
	"imagePullPolicy":                       {support: Honoured},
	"command":                               {support: Honoured},
	"args":                                  {support: Honoured},
	"workingDir":                            {support: Honoured},
	"env":                                   {support: Honoured},
	"env[*].name":                           {support: Honoured},
	"env[*].value":                          {support: Honoured},
	"env[*].valueFrom":                      {support: Honoured},
	"env[*].valueFrom.fieldRef":             {support: Honoured},
	"env[*].valueFrom.fieldRef.fieldPath":   {support: Honoured},
	"env[*].valueFrom.fieldRef.apiVersion":  {support: Honoured},
	"env[*].valueFrom.resourceFieldRef":     {support: Honoured, subtree: true},
	"env[*].valueFrom.configMapKeyRef":      {support: Honoured},
	"env[*].valueFrom.configMapKeyRef.name": {support: Honoured},
	"env[*].valueFrom.configMapKeyRef.key":  {support: Honoured},
	"env[*].valueFrom.configMapKeyRef.optional":        {support: Honoured},
	"env[*].valueFrom.secretKeyRef":                    {support: Honoured},
	"env[*].valueFrom.secretKeyRef.name":               {support: Honoured},
	"env[*].valueFrom.secretKeyRef.key":                {support: Honoured},
	"env[*].valueFrom.secretKeyRef.optional":           {support: Honoured},
	"envFrom":                                          {support: Honoured},
	"envFrom[*].prefix":                                {support: Honoured},
	"envFrom[*].configMapRef":                          {support: Honoured},
	"envFrom[*].configMapRef.name":                     {support: Honoured},
	"envFrom[*].configMapRef.optional":                 {support: Honoured},
	"envFrom[*].secretRef":                             {support: Honoured},
	"envFrom[*].secretRef.name":                        {support: Honoured},
	"envFrom[*].secretRef.optional":                    {support: Honoured},
	"volumeMounts[*].subPathExpr":                      {support: Honoured},
	"ports":                                            {support: Honoured},
	"ports[*].name":                                    {support: Honoured},
	"ports[*].containerPort":                           {support: Honoured},
	"ports[*].hostPort":                                {support: Honoured},
	"ports[*].hostIP":                                  {support: Honoured},
	"ports[*].protocol":                                {support: Honoured},
	"volumeMounts":                                     {support: Honoured},
	"volumeMounts[*].name":                             {support: Honoured},
	"volumeMounts[*].mountPath":                        {support: Honoured},
	"volumeMounts[*].readOnly":                         {support: Honoured},
	"volumeMounts[*].subPath":                          {support: Honoured},
	"volumeMounts[*].mountPropagation":                 {support: Honoured, note: "HostToContainer: podman's rslave; Bidirectional: rshared, whose mounts reach the rootless user namespace's mount table, not the host's"},
	"resources":                                        {support: Honoured},
	"resources.limits":                                 {support: Honoured, subtree: true, note: "cpu and memory on the container's unit; ephemeral-storage with a warning: not enforced"},
	"resources.requests":                               {support: Honoured, subtree: true},
	"securityContext":                                  {support: Honoured},
	"securityContext.capabilities":                     {support: Honoured},
	"securityContext.capabilities.add":                 {support: Honoured},
	"securityContext.capabilities.drop":                {support: Honoured},
	"securityContext.privileged":                       {support: Honoured},
	"securityContext.readOnlyRootFilesystem":           {support: Honoured},
	"securityContext.allowPrivilegeEscalation":         {support: Honoured},
	"securityContext.runAsUser":                        {support: Honoured},
	"securityContext.runAsGroup":                       {support: Honoured},
	"securityContext.runAsNonRoot":                     {support: Honoured},
	"securityContext.seccompProfile":                   {support: Honoured},
	"securityContext.seccompProfile.type":              {support: Honoured},
	"securityContext.seccompProfile.localhostProfile":  {support: Honoured, note: "a file under ~/.config/podunit/seccomp"},
	"securityContext.appArmorProfile":                  {support: Honoured, note: "where the host has AppArmor; a Localhost profile must be loaded"},
	"securityContext.appArmorProfile.type":             {support: Honoured},
	"securityContext.appArmorProfile.localhostProfile": {support: Honoured},
	"securityContext.procMount":                        {support: Honoured, note: "Unmasked: podman's unmask=ALL, with hostUsers: false"},
	"securityContext.seLinuxOptions":                   {support: Honoured, note: "podman's label options where the host has SELinux; ignored with a warning where it has not, as the kubelet ignores them"},
	"securityContext.seLinuxOptions.user":              {support: Honoured},
	"securityContext.seLinuxOptions.role":              {support: Honoured},
	"securityContext.seLinuxOptions.type":              {support: Honoured},
	"securityContext.seLinuxOptions.level":             {support: Honoured},
	"resizePolicy":                                     {support: Honoured, note: "podunit resize: NotRequired changes the running unit's limits, RestartContainer restarts the container"},
	"resizePolicy[*].resourceName":                     {support: Honoured},
	"resizePolicy[*].restartPolicy":                    {support: Honoured},
	"restartPolicyRules":                               {support: Honoured, note: "app containers: the unit's restart decision by exit code"},
	"restartPolicyRules[*].action":                     {support: Honoured},
	"restartPolicyRules[*].exitCodes":                  {support: Honoured},
	"restartPolicyRules[*].exitCodes.operator":         {support: Honoured},
	"restartPolicyRules[*].exitCodes.values":           {support: Honoured},
	"tty":                                              {support: Honoured},
	"stdin":                                            {support: Honoured},
	"stdinOnce":                                        {support: Ignored, note: "podunit has no attach, so no session ends to close stdin: it stays open, as with stdin alone"},
	"terminationMessagePath":                           {support: Honoured, note: "a file of the pod's state bound there, read when the container ends (describe, get -o yaml)"},
	"terminationMessagePolicy":                         {support: Honoured, note: "FallbackToLogsOnError: the end of the log of a failed run that wrote no message"},
	"lifecycle":                                        {support: Honoured},
	"lifecycle.stopSignal":                             {support: Honoured},
	"lifecycle.postStart":                              {support: Honoured},
	"lifecycle.postStart.exec":                         {support: Honoured},
	"lifecycle.postStart.exec.command":                 {support: Honoured},
	"lifecycle.postStart.httpGet":                      {support: Honoured},
	"lifecycle.postStart.httpGet.host":                 {support: Honoured},
	"lifecycle.postStart.httpGet.port":                 {support: Honoured},
	"lifecycle.postStart.httpGet.path":                 {support: Honoured},
	"lifecycle.postStart.httpGet.scheme":               {support: Honoured},
	"lifecycle.postStart.httpGet.httpHeaders":          {support: Honoured},
	"lifecycle.postStart.httpGet.httpHeaders[*].name":  {support: Honoured},
	"lifecycle.postStart.httpGet.httpHeaders[*].value": {support: Honoured},
	"lifecycle.postStart.sleep":                        {support: Honoured},
	"lifecycle.postStart.sleep.seconds":                {support: Honoured},
	"lifecycle.postStart.tcpSocket":                    {note: "tcpSocket handlers are deprecated in Kubernetes and not supported; use exec or httpGet"},
	"lifecycle.preStop":                                {support: Honoured},
	"lifecycle.preStop.exec":                           {support: Honoured},
	"lifecycle.preStop.exec.command":                   {support: Honoured},
	"lifecycle.preStop.httpGet":                        {support: Honoured},
	"lifecycle.preStop.httpGet.host":                   {support: Honoured},
	"lifecycle.preStop.httpGet.port":                   {support: Honoured},
	"lifecycle.preStop.httpGet.path":                   {support: Honoured},
	"lifecycle.preStop.httpGet.scheme":                 {support: Honoured},
	"lifecycle.preStop.httpGet.httpHeaders":            {support: Honoured},
	"lifecycle.preStop.httpGet.httpHeaders[*].name":    {support: Honoured},
	"lifecycle.preStop.httpGet.httpHeaders[*].value":   {support: Honoured},
	"lifecycle.preStop.sleep":                          {support: Honoured},
	"lifecycle.preStop.sleep.seconds":                  {support: Honoured},
	"lifecycle.preStop.tcpSocket":                      {note: "tcpSocket handlers are deprecated in Kubernetes and not supported; use exec or httpGet"},
	"restartPolicy":                                    {support: Honoured},
	"livenessProbe":                                    {support: Honoured},
	"livenessProbe.exec":                               {support: Honoured},
	"livenessProbe.exec.command":                       {support: Honoured},
	"livenessProbe.httpGet":                            {support: Honoured},
	"livenessProbe.httpGet.host":                       {support: Honoured},
	"livenessProbe.httpGet.port":                       {support: Honoured},
	"livenessProbe.httpGet.path":                       {support: Honoured},
	"livenessProbe.httpGet.scheme":                     {support: Honoured},
	"livenessProbe.httpGet.httpHeaders":                {support: Honoured},
	"livenessProbe.httpGet.httpHeaders[*].name":        {support: Honoured},
	"livenessProbe.httpGet.httpHeaders[*].value":       {support: Honoured},
	"livenessProbe.tcpSocket":                          {support: Honoured},
	"livenessProbe.tcpSocket.host":                     {support: Honoured},
	"livenessProbe.tcpSocket.port":                     {support: Honoured},
	"livenessProbe.initialDelaySeconds":                {support: Honoured},
	"livenessProbe.timeoutSeconds":                     {support: Honoured},
	"livenessProbe.periodSeconds":                      {support: Honoured},
	"livenessProbe.successThreshold":                   {support: Honoured},
	"livenessProbe.failureThreshold":                   {support: Honoured},
	"livenessProbe.terminationGracePeriodSeconds":      {support: Honoured},
	"livenessProbe.grpc":                               {support: Honoured},
	"livenessProbe.grpc.port":                          {support: Honoured},
	"livenessProbe.grpc.service":                       {support: Honoured},
	"readinessProbe":                                   {support: Honoured},
	"readinessProbe.exec":                              {support: Honoured},
	"readinessProbe.exec.command":                      {support: Honoured},
	"readinessProbe.httpGet":                           {support: Honoured},
	"readinessProbe.httpGet.host":                      {support: Honoured},
	"readinessProbe.httpGet.port":                      {support: Honoured},
	"readinessProbe.httpGet.path":                      {support: Honoured},
	"readinessProbe.httpGet.scheme":                    {support: Honoured},
	"readinessProbe.httpGet.httpHeaders":               {support: Honoured},
	"readinessProbe.httpGet.httpHeaders[*].name":       {support: Honoured},
	"readinessProbe.httpGet.httpHeaders[*].value":      {support: Honoured},
	"readinessProbe.tcpSocket":                         {support: Honoured},
	"readinessProbe.tcpSocket.host":                    {support: Honoured},
	"readinessProbe.tcpSocket.port":                    {support: Honoured},
	"readinessProbe.initialDelaySeconds":               {support: Honoured},
	"readinessProbe.timeoutSeconds":                    {support: Honoured},
	"readinessProbe.periodSeconds":                     {support: Honoured},
	"readinessProbe.successThreshold":                  {support: Honoured},
	"readinessProbe.failureThreshold":                  {support: Honoured},
	"readinessProbe.terminationGracePeriodSeconds":     {support: Honoured},
	"readinessProbe.grpc":                              {support: Honoured},
	"readinessProbe.grpc.port":                         {support: Honoured},
	"readinessProbe.grpc.service":                      {support: Honoured},
	"startupProbe":                                     {support: Honoured},
	"startupProbe.exec":                                {support: Honoured},
	"startupProbe.exec.command":                        {support: Honoured},
	"startupProbe.httpGet":                             {support: Honoured},
	"startupProbe.httpGet.host":                        {support: Honoured},
	"startupProbe.httpGet.port":                        {support: Honoured},
	"startupProbe.httpGet.path":                        {support: Honoured},
	"startupProbe.httpGet.scheme":                      {support: Honoured},
	"startupProbe.httpGet.httpHeaders":                 {support: Honoured},
	"startupProbe.httpGet.httpHeaders[*].name":         {support: Honoured},
	"startupProbe.httpGet.httpHeaders[*].value":        {support: Honoured},
	"startupProbe.tcpSocket":                           {support: Honoured},
	"startupProbe.tcpSocket.host":                      {support: Honoured},
	"startupProbe.tcpSocket.port":                      {support: Honoured},
	"startupProbe.initialDelaySeconds":                 {support: Honoured},
	"startupProbe.timeoutSeconds":                      {support: Honoured},
	"startupProbe.periodSeconds":                       {support: Honoured},
	"startupProbe.successThreshold":                    {support: Honoured},
	"startupProbe.failureThreshold":                    {support: Honoured},
	"startupProbe.terminationGracePeriodSeconds":       {support: Honoured},
	"startupProbe.grpc":                                {support: Honoured},
	"startupProbe.grpc.port":                           {support: Honoured},
	"startupProbe.grpc.service":                        {support: Honoured},
}

// podRules covers everything outside the containers. Anything not listed here or
// in containerRules is rejected: a field podunit does not know is never skipped.
var podRules = withMetadata(map[string]rule{
	"metadata.uid":                                  {support: Ignored, note: "podunit gives every pod a new uid"},
	"status":                                        {support: Ignored, subtree: true, note: "output-only"},
	"spec":                                          {support: Honoured},
	"spec.containers":                               {support: Honoured},
	"spec.restartPolicy":                            {support: Honoured},
	"spec.terminationGracePeriodSeconds":            {support: Honoured},
	"spec.activeDeadlineSeconds":                    {support: Honoured, note: "that long after the pod started, it fails (DeadlineExceeded): its containers are stopped, each with its preStop and the grace period"},
	"spec.hostname":                                 {support: Honoured},
	"spec.hostNetwork":                              {support: Honoured},
	"spec.shareProcessNamespace":                    {support: Honoured},
	"spec.enableServiceLinks":                       {support: Honoured},
	"spec.hostAliases":                              {support: Honoured, note: "in every container's /etc/hosts, after the pod's own entries, as the kubelet writes it"},
	"spec.hostAliases[*].ip":                        {support: Honoured},
	"spec.hostAliases[*].hostnames":                 {support: Honoured},
	"spec.dnsPolicy":                                {support: Honoured},
	"spec.dnsConfig":                                {support: Honoured},
	"spec.dnsConfig.nameservers":                    {support: Honoured},
	"spec.dnsConfig.searches":                       {support: Honoured},
	"spec.dnsConfig.options":                        {support: Honoured},
	"spec.dnsConfig.options[*].name":                {support: Honoured},
	"spec.dnsConfig.options[*].value":               {support: Honoured},
	"spec.subdomain":                                {support: Honoured, note: "HOSTNAME.SUBDOMAIN.NAMESPACE.svc.cluster.local is the pod's name in its /etc/hosts (hostname -f), and resolves in the cluster DNS when a headless Service of that name exists"},
	"spec.setHostnameAsFQDN":                        {support: Honoured},
	"spec.volumes":                                  {support: Honoured},
	"spec.volumes[*].name":                          {support: Honoured},
	"spec.volumes[*].emptyDir":                      {support: Honoured},
	"spec.volumes[*].emptyDir.medium":               {support: Honoured},
	"spec.volumes[*].emptyDir.sizeLimit":            {support: Honoured, note: "the tmpfs size with medium: Memory; on disk, a warning: not enforced"},
	"spec.volumes[*].hostPath":                      {support: Honoured},
	"spec.volumes[*].ephemeral":                     {support: Honoured, note: "a podman volume of the pod's own, made with it and removed with it (the claim <pod>-<volume> a cluster makes)"},
	"spec.volumes[*].ephemeral.volumeClaimTemplate": {support: Honoured},
	"spec.volumes[*].ephemeral.volumeClaimTemplate.metadata":                   {support: Honoured},
	"spec.volumes[*].ephemeral.volumeClaimTemplate.metadata.labels":            {support: Ignored, subtree: true, note: "they would label the claim, a podman volume of the pod's on this host"},
	"spec.volumes[*].ephemeral.volumeClaimTemplate.metadata.annotations":       {support: Ignored, subtree: true, note: "they would annotate the claim, a podman volume of the pod's on this host"},
	"spec.volumes[*].ephemeral.volumeClaimTemplate.metadata.creationTimestamp": {support: Ignored, note: "output-only"},
	"spec.volumes[*].image":                                    {support: Honoured, note: "podman's image mount: the image's files, read-only"},
	"spec.volumes[*].image.reference":                          {support: Honoured},
	"spec.volumes[*].image.pullPolicy":                         {support: Honoured, note: "as a container's imagePullPolicy"},
	"spec.volumes[*].hostPath.path":                            {support: Honoured},
	"spec.volumes[*].hostPath.type":                            {support: Honoured},
	"spec.volumes[*].configMap":                                {support: Honoured},
	"spec.volumes[*].configMap.name":                           {support: Honoured},
	"spec.volumes[*].configMap.optional":                       {support: Honoured},
	"spec.volumes[*].configMap.defaultMode":                    {support: Honoured},
	"spec.volumes[*].configMap.items":                          {support: Honoured},
	"spec.volumes[*].configMap.items[*].key":                   {support: Honoured},
	"spec.volumes[*].configMap.items[*].path":                  {support: Honoured},
	"spec.volumes[*].configMap.items[*].mode":                  {support: Honoured},
	"spec.volumes[*].secret":                                   {support: Honoured},
	"spec.volumes[*].secret.secretName":                        {support: Honoured},
	"spec.volumes[*].secret.optional":                          {support: Honoured},
	"spec.volumes[*].secret.defaultMode":                       {support: Honoured},
	"spec.volumes[*].secret.items":                             {support: Honoured},
	"spec.volumes[*].secret.items[*].key":                      {support: Honoured},
	"spec.volumes[*].secret.items[*].path":                     {support: Honoured},
	"spec.volumes[*].secret.items[*].mode":                     {support: Honoured},
	"spec.volumes[*].downwardAPI":                              {support: Honoured},
	"spec.volumes[*].downwardAPI.defaultMode":                  {support: Honoured},
	"spec.volumes[*].downwardAPI.items":                        {support: Honoured, subtree: true},
	"spec.volumes[*].projected":                                {support: Honoured},
	"spec.volumes[*].projected.defaultMode":                    {support: Honoured},
	"spec.volumes[*].projected.sources":                        {support: Honoured},
	"spec.volumes[*].projected.sources[*].configMap":           {support: Honoured, subtree: true},
	"spec.volumes[*].projected.sources[*].secret":              {support: Honoured, subtree: true},
	"spec.volumes[*].projected.sources[*].downwardAPI":         {support: Honoured, subtree: true},
	"spec.volumes[*].projected.sources[*].serviceAccountToken": {note: "there is no API server on one host to issue a token (the kube-api-access-* volume a cluster added to an exported pod is dropped with a warning)"},
	"spec.volumes[*].projected.sources[*].clusterTrustBundle":  {note: "there is no API server on one host to hold trust bundles"},
	"spec.volumes[*].persistentVolumeClaim":                    {support: Honoured},
	"spec.volumes[*].persistentVolumeClaim.claimName":          {support: Honoured},
	"spec.volumes[*].persistentVolumeClaim.readOnly":           {support: Honoured},
	"spec.securityContext":                                     {support: Honoured},
	"spec.securityContext.runAsUser":                           {support: Honoured},
	"spec.securityContext.runAsNonRoot":                        {support: Honoured},
	"spec.securityContext.seccompProfile":                      {support: Honoured},
	"spec.securityContext.seccompProfile.type":                 {support: Honoured},
	"spec.securityContext.seccompProfile.localhostProfile":     {support: Honoured, note: "a file under ~/.config/podunit/seccomp"},
	"spec.securityContext.appArmorProfile":                     {support: Honoured, note: "where the host has AppArmor; a Localhost profile must be loaded"},
	"spec.securityContext.appArmorProfile.type":                {support: Honoured},
	"spec.securityContext.appArmorProfile.localhostProfile":    {support: Honoured},
	"spec.securityContext.seLinuxOptions":                      {support: Honoured, note: "podman's label options where the host has SELinux; ignored with a warning where it has not, as the kubelet ignores them"},
	"spec.securityContext.seLinuxOptions.user":                 {support: Honoured},
	"spec.securityContext.seLinuxOptions.role":                 {support: Honoured},
	"spec.securityContext.seLinuxOptions.type":                 {support: Honoured},
	"spec.securityContext.seLinuxOptions.level":                {support: Honoured},
	"spec.securityContext.fsGroup":                             {support: Honoured, note: "the pod's volumes (not hostPath) are given the group, setgid directories, and every container the group"},
	"spec.securityContext.fsGroupChangePolicy":                 {support: Honoured},
	"spec.securityContext.supplementalGroupsPolicy":            {support: Honoured, note: "Strict needs runAsUser and runAsGroup for every container"},
	"spec.hostUsers":                                           {support: Honoured, note: "false: a user namespace of the pod's own (podman --userns=auto)"},
	"spec.hostPID":                                             {support: Honoured},
	"spec.hostIPC":                                             {support: Honoured},
	"spec.resources":                                           {support: Honoured, note: "cpu and memory, on the pod's slice"},
	"spec.resources.requests":                                  {support: Honoured, subtree: true},
	"spec.resources.limits":                                    {support: Honoured, subtree: true},
	"spec.securityContext.runAsGroup":                          {support: Honoured},
	"spec.securityContext.supplementalGroups":                  {support: Honoured},
	"spec.securityContext.sysctls":                             {support: Honoured, note: "the kubelet's safe set; on the pod's infra, whose namespaces its containers share"},
	"spec.securityContext.sysctls[*].name":                     {support: Honoured},
	"spec.securityContext.sysctls[*].value":                    {support: Honoured},
	"spec.nodeSelector":                                        {support: Honoured, subtree: true},
	"spec.nodeName":                                            {support: Ignored, note: "podunit runs the pod on this host"},
	"spec.serviceAccountName":                                  {support: Honoured, note: "the ServiceAccount's imagePullSecrets are the pod's when it has none (no API server: no token is mounted)"},
	"spec.serviceAccount":                                      {support: Honoured, note: "deprecated name of serviceAccountName"},
	"spec.automountServiceAccountToken":                        {support: Honoured, note: "no token is mounted on this host (true: a warning)"},
	"spec.schedulerName":                                       {support: Ignored, note: "scheduling has no meaning on one host"},
	"spec.priority":                                            {support: Ignored, note: "scheduling has no meaning on one host"},
	"spec.priorityClassName":                                   {support: Ignored, note: "scheduling has no meaning on one host"},
	"spec.preemptionPolicy":                                    {support: Ignored, note: "scheduling has no meaning on one host"},
	"spec.tolerations":                                         {support: Ignored, subtree: true, note: "scheduling has no meaning on one host"},
	"spec.schedulingGates":                                     {support: Honoured, note: "the pod waits until `podunit ungate` removes the last"},
	"spec.schedulingGates[*].name":                             {support: Honoured},
	"spec.affinity":                                            {support: Honoured},
	"spec.affinity.nodeAffinity":                               {support: Honoured},
	"spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution": {support: Honoured, subtree: true,
		note: "matched against this host's labels, as nodeSelector is"},
	"spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution": {support: Ignored, subtree: true, note: "one node: there is nothing to prefer"},
	"spec.affinity.podAffinity":      {support: Ignored, subtree: true, note: "one node: every pod is next to every other"},
	"spec.affinity.podAntiAffinity":  {support: Ignored, subtree: true, note: "one node: pods are placed together whatever they ask"},
	"spec.topologySpreadConstraints": {support: Ignored, subtree: true, note: "scheduling has no meaning on one host"},
	"spec.initContainers":            {support: Honoured},
	"spec.os":                        {support: Honoured},
	"spec.os.name":                   {support: Honoured},
	"spec.ephemeralContainers":       {note: "ephemeral containers are added with a debug command, not in a manifest"},
	"spec.imagePullSecrets":          {support: Honoured, note: "kubernetes.io/dockerconfigjson or dockercfg Secrets: the pull authenticates with them"},
	"spec.imagePullSecrets[*].name":  {support: Honoured},
})

func init() {
	for k, r := range containerRules {
		podRules["spec.containers[*]."+k] = r
		podRules["spec.initContainers[*]."+k] = r
	}
	for k, r := range claimRules {
		if k == "spec" || strings.HasPrefix(k, "spec.") {
			podRules["spec.volumes[*].ephemeral.volumeClaimTemplate."+k] = r
		}
	}
	// an ephemeral volume is a podman volume of the pod's, never bound to a
	// PersistentVolume
	const ev = "spec.volumes[*].ephemeral.volumeClaimTemplate."
	podRules[ev+"spec.storageClassName"] = rule{support: Ignored, note: "an ephemeral volume is a podman volume of the pod's on this host"}
	podRules[ev+"spec.selector"] = rule{note: "an ephemeral volume is a podman volume of the pod's, bound to no PersistentVolume"}
	delete(podRules, ev+"spec.selector.matchLabels")
	delete(podRules, ev+"spec.selector.matchExpressions")
	podRules[ev+"spec.resources.requests"] = rule{support: Ignored, subtree: true, note: "a podman volume on this host has no size limit"}
	podRules[ev+"spec.volumeName"] = rule{note: "an ephemeral volume is a podman volume of the pod's, bound to no PersistentVolume"}
	for k := range podRules {
		if strings.HasPrefix(k, "spec.initContainers[*].restartPolicyRules") {
			delete(podRules, k)
		}
	}
	podRules["spec.initContainers[*].restartPolicyRules"] = rule{support: Rejected, subtree: true,
		note: "podunit runs restartPolicyRules on app containers only"}
}

// ruleFor finds the rule of a normalised path: its own, or a subtree rule of an
// ancestor, or the default (rejected, unknown to podunit).
func ruleFor(norm string) (rule, bool) { return ruleIn(podRules, norm) }

func ruleIn(rules map[string]rule, norm string) (rule, bool) {
	if r, ok := rules[norm]; ok {
		return r, true
	}
	for p := norm; ; {
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			return rule{}, false
		}
		p = p[:i]
		if r, ok := rules[p]; ok && r.subtree {
			return r, true
		}
	}
}

// SupportedFields lists the policy as "path<TAB>support<TAB>note" lines, sorted, for
// the documentation and `podunit fields`.
// Object kinds other than Pod have their paths prefixed with the kind
// ("Secret:stringData.*").
func SupportedFields() []string {
	var out []string
	for _, table := range []struct {
		prefix string
		rules  map[string]rule
	}{{"", podRules}, {"ConfigMap:", configMapRules}, {"Secret:", secretRules}, {"PersistentVolumeClaim:", claimRules}, {"PersistentVolume:", volumeRules}, {"Service:", serviceRules}, {"Endpoints:", endpointsRules}, {"EndpointSlice:", endpointSliceRules}, {"Ingress:", ingressRules}, {"NetworkPolicy:", networkPolicyRules}, {"LimitRange:", limitRangeRules}, {"ResourceQuota:", resourceQuotaRules}, {"ServiceAccount:", serviceAccountRules}, {"Namespace:", namespaceRules}, {"Deployment:", deploymentRules}, {"StatefulSet:", statefulSetRules}, {"DaemonSet:", daemonSetRules}, {"Job:", jobRules}, {"CronJob:", cronJobRules}} {
		for k, r := range table.rules {
			s := map[Support]string{Honoured: "honoured", Ignored: "ignored (warning)", Rejected: "rejected"}[r.support]
			if r.subtree {
				k += ".*"
			}
			out = append(out, table.prefix+k+"\t"+s+"\t"+r.note)
		}
	}
	sort.Strings(out)
	return out
}
