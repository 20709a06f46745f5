package main

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/podunit/podunit/pod"
)

// The dry run names the endpoints, LimitRanges and quotas a manifest would
// store, and what they do.
func TestRenderObjectsOfNamespacePolicy(t *testing.T) {
	m, err := pod.Load([]byte(`
apiVersion: v1
kind: Endpoints
metadata: {name: db}
subsets: [{addresses: [{ip: 192.0.2.5}, {ip: 192.0.2.6}], ports: [{port: 5432}]}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: db-1, labels: {kubernetes.io/service-name: db}}
addressType: IPv4
ports: [{port: 5432}]
endpoints: [{addresses: [192.0.2.7]}, {addresses: [192.0.2.8], conditions: {ready: false}}]
---
apiVersion: v1
kind: LimitRange
metadata: {name: lr}
spec: {limits: [{type: Container, default: {memory: 1Gi}}, {type: Pod, max: {cpu: "2"}}]}
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: rq}
spec: {hard: {pods: "3", requests.memory: 1Gi}}
`))
	if err != nil {
		t.Fatal(err)
	}
	got := renderObjects(&m.Objects)
	for _, want := range []string{
		"# endpoints default/db would be stored: 192.0.2.5:5432,192.0.2.6:5432\n",
		"# endpointslice default/db-1 would be stored: service db, 192.0.2.7, ports 5432\n",
		"# limitrange default/lr would be stored: limits of Container, Pod; the namespace's pods and claims made from now on get its defaults and are checked against it\n",
		"# resourcequota default/rq would be stored: hard pods=3,requests.memory=1Gi; the namespace's pods and objects made from now on are checked against it\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("dry run lacks %q:\n%s", want, got)
		}
	}
}

// kubectl's columns of a quota: used/hard, the limits apart.
func TestQuotaColumns(t *testing.T) {
	q := &corev1.ResourceQuota{Status: corev1.ResourceQuotaStatus{
		Hard: corev1.ResourceList{"pods": resource.MustParse("3"), "limits.cpu": resource.MustParse("2"), "requests.memory": resource.MustParse("1Gi")},
		Used: corev1.ResourceList{"pods": resource.MustParse("1"), "limits.cpu": resource.MustParse("500m")},
	}}
	req, lim := quotaColumns(q)
	if req != "pods: 1/3, requests.memory: 0/1Gi" || lim != "limits.cpu: 500m/2" {
		t.Errorf("columns: %q %q", req, lim)
	}
}
