// Command gatewaysim simulates a Gateway API controller for bgrender's end-to-end tests: it
// sets on every HTTPRoute, for each of its parentRefs, the conditions Accepted and ResolvedRefs
// True at the route's current generation, so that Argo CD's HTTPRoute health check (which waits
// for them) sees it Healthy. No gateway or data plane exists; every parent is accepted, even a
// Gateway that does not exist. Nodes and pods are simulated by kwok; everything else is real.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"
)

const gatewayControllerName = "bgrender.test/simulated-gateway-controller"

var httpRoutes = schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "httproutes"}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the API server")
	flag.Parse()

	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		fmt.Fprintf(os.Stderr, "gatewaysim: kubeconfig: %v\n", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	runGatewayController(ctx, dynamic.NewForConfigOrDie(cfg))
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s gatewaysim: "+format+"\n", append([]any{time.Now().UTC().Format(time.RFC3339)}, args...)...)
}

// runGatewayController accepts every HTTPRoute for each of its parentRefs. It polls, since the
// HTTPRoute CRD may be installed after this process starts.
func runGatewayController(ctx context.Context, client dynamic.Interface) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		list, err := client.Resource(httpRoutes).Namespace("").List(ctx, metav1.ListOptions{})
		if err == nil {
			for i := range list.Items {
				acceptRoute(ctx, client, &list.Items[i])
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func acceptRoute(ctx context.Context, client dynamic.Interface, route *unstructured.Unstructured) {
	generation := route.GetGeneration()
	parents, _, _ := unstructured.NestedSlice(route.Object, "status", "parents")
	current := len(parents) > 0
	for _, p := range parents {
		conds, _, _ := unstructured.NestedSlice(p.(map[string]any), "conditions")
		for _, c := range conds {
			if g, _, _ := unstructured.NestedInt64(c.(map[string]any), "observedGeneration"); g != generation {
				current = false
			}
		}
	}
	refs, _, _ := unstructured.NestedSlice(route.Object, "spec", "parentRefs")
	if current && len(parents) == len(refs) {
		return
	}
	now := time.Now().UTC().Format(time.RFC3339)
	var status []any
	for _, ref := range refs {
		condition := func(t, reason string) any {
			return map[string]any{
				"type": t, "status": "True", "reason": reason, "message": "simulated: no data plane",
				"observedGeneration": generation, "lastTransitionTime": now,
			}
		}
		status = append(status, map[string]any{
			"parentRef":      ref,
			"controllerName": gatewayControllerName,
			"conditions":     []any{condition("Accepted", "Accepted"), condition("ResolvedRefs", "ResolvedRefs")},
		})
	}
	updated := route.DeepCopy()
	if err := unstructured.SetNestedSlice(updated.Object, status, "status", "parents"); err != nil {
		logf("httproute %s/%s: %v", route.GetNamespace(), route.GetName(), err)
		return
	}
	_, err := client.Resource(httpRoutes).Namespace(route.GetNamespace()).UpdateStatus(ctx, updated, metav1.UpdateOptions{})
	if err != nil && !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) && ctx.Err() == nil {
		logf("httproute %s/%s status: %v", route.GetNamespace(), route.GetName(), err)
	}
}
