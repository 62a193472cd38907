// Command nodesim simulates the kubelet of one Node, and a Gateway API controller, for
// bgrender's end-to-end tests. No container runs.
//
// As the kubelet, it:
//   - registers a Node with capacity (cpu, memory, pods), a Ready condition and an address,
//     and keeps the condition's heartbeat fresh;
//   - renews the Node's Lease in kube-node-lease, as the kubelet's heartbeat does;
//   - moves every Pod the scheduler binds to the Node to Running, with the PodScheduled,
//     Initialized, ContainersReady and Ready conditions True and a running, ready, started
//     containerStatus per container (init containers terminated with exit code 0); a Pod
//     whose restartPolicy is Never or OnFailure (a Job's) to Succeeded instead, every container
//     terminated with exit code 0 (reason Completed). Images are never pulled, commands never
//     run, probes never called: a Job "passes" whatever its command would have done;
//   - deletes a Pod that is being deleted (deletionTimestamp set) at once, as the kubelet does
//     after its containers stopped (grace period 0).
//
// As a Gateway API controller (the gateway's data plane is not simulated), it sets on every
// HTTPRoute, for each of its parentRefs, the conditions Accepted and ResolvedRefs True at the
// route's current generation, so that Argo CD's HTTPRoute health check sees it Healthy.
//
// Everything else (API server, admission, controllers, scheduler, etcd) is real.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
)

const gatewayControllerName = "bgrender.test/simulated-gateway-controller"

var httpRoutes = schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "httproutes"}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the API server")
	nodeName := flag.String("node-name", "sim-node-1", "name of the simulated Node")
	gateway := flag.Bool("gateway-controller", true, "also simulate a Gateway API controller")
	flag.Parse()

	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		fatal("kubeconfig: %v", err)
	}
	cfg.QPS, cfg.Burst = 100, 200
	client := kubernetes.NewForConfigOrDie(cfg)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	sim := &kubelet{client: client, node: *nodeName, podIPs: map[string]string{}}
	if err := sim.register(ctx); err != nil {
		fatal("registering node %s: %v", *nodeName, err)
	}
	go sim.heartbeat(ctx)
	go sim.runPods(ctx)
	if *gateway {
		go runGatewayController(ctx, dynamic.NewForConfigOrDie(cfg))
	}
	<-ctx.Done()
}

func fatal(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "nodesim: "+format+"\n", args...)
	os.Exit(1)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s nodesim: "+format+"\n", append([]any{time.Now().UTC().Format(time.RFC3339)}, args...)...)
}

type kubelet struct {
	client kubernetes.Interface
	node   string

	mu     sync.Mutex
	podIPs map[string]string // pod UID -> IP
	nextIP int
}

func (k *kubelet) register(ctx context.Context) error {
	quantity := resource.MustParse
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:              quantity("32"),
		corev1.ResourceMemory:           quantity("256Gi"),
		corev1.ResourcePods:             quantity("250"),
		corev1.ResourceEphemeralStorage: quantity("500Gi"),
	}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: k.node,
			Labels: map[string]string{
				"kubernetes.io/hostname": k.node,
				"kubernetes.io/os":       "linux",
				"kubernetes.io/arch":     "amd64",
				"type":                   "simulated",
			},
		},
	}
	created, err := k.client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		created, err = k.client.CoreV1().Nodes().Get(ctx, k.node, metav1.GetOptions{})
	}
	if err != nil {
		return err
	}
	created.Status = corev1.NodeStatus{
		Capacity:    capacity,
		Allocatable: capacity,
		Phase:       corev1.NodeRunning,
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: "127.0.0.1"},
			{Type: corev1.NodeHostName, Address: k.node},
		},
		Conditions: k.conditions(),
		NodeInfo: corev1.NodeSystemInfo{
			Architecture:            "amd64",
			OperatingSystem:         "linux",
			KubeletVersion:          "v1.37.2-simulated",
			ContainerRuntimeVersion: "simulated://0",
			OSImage:                 "simulated (no container runs)",
		},
	}
	_, err = k.client.CoreV1().Nodes().UpdateStatus(ctx, created, metav1.UpdateOptions{})
	return err
}

func (k *kubelet) conditions() []corev1.NodeCondition {
	now := metav1.Now()
	cond := func(t corev1.NodeConditionType, s corev1.ConditionStatus, reason, msg string) corev1.NodeCondition {
		return corev1.NodeCondition{Type: t, Status: s, Reason: reason, Message: msg, LastHeartbeatTime: now, LastTransitionTime: now}
	}
	return []corev1.NodeCondition{
		cond(corev1.NodeReady, corev1.ConditionTrue, "KubeletReady", "simulated kubelet is posting ready status"),
		cond(corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory", "simulated"),
		cond(corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure", "simulated"),
		cond(corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID", "simulated"),
	}
}

// heartbeat renews the Lease every 10 s and the Ready condition every 30 s, as the kubelet does.
func (k *kubelet) heartbeat(ctx context.Context) {
	leases := k.client.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	beats := 0
	for {
		now := metav1.NewMicroTime(time.Now())
		lease, err := leases.Get(ctx, k.node, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			_, err = leases.Create(ctx, &coordinationv1.Lease{
				ObjectMeta: metav1.ObjectMeta{Name: k.node},
				Spec: coordinationv1.LeaseSpec{
					HolderIdentity:       ptr.To(k.node),
					LeaseDurationSeconds: ptr.To(int32(40)),
					RenewTime:            &now,
				},
			}, metav1.CreateOptions{})
		case err == nil:
			lease.Spec.RenewTime = &now
			_, err = leases.Update(ctx, lease, metav1.UpdateOptions{})
		}
		if err != nil && ctx.Err() == nil {
			logf("lease: %v", err)
		}
		if beats%3 == 2 {
			if node, err := k.client.CoreV1().Nodes().Get(ctx, k.node, metav1.GetOptions{}); err == nil {
				node.Status.Conditions = k.conditions()
				if _, err := k.client.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil && ctx.Err() == nil {
					logf("node status: %v", err)
				}
			}
		}
		beats++
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// runPods watches the Pods bound to this Node and acts on each change.
func (k *kubelet) runPods(ctx context.Context) {
	factory := informers.NewSharedInformerFactoryWithOptions(k.client, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", k.node).String()
	}))
	work := make(chan *corev1.Pod, 1024)
	handle := func(obj any) {
		if pod, ok := obj.(*corev1.Pod); ok {
			work <- pod
		}
	}
	_, _ = factory.Core().V1().Pods().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    handle,
		UpdateFunc: func(_, obj any) { handle(obj) },
	})
	factory.Start(ctx.Done())
	for {
		select {
		case <-ctx.Done():
			return
		case pod := <-work:
			k.sync(ctx, pod)
		}
	}
}

func (k *kubelet) sync(ctx context.Context, pod *corev1.Pod) {
	pods := k.client.CoreV1().Pods(pod.Namespace)
	if pod.DeletionTimestamp != nil {
		err := pods.Delete(ctx, pod.Name, metav1.DeleteOptions{
			GracePeriodSeconds: ptr.To(int64(0)),
			Preconditions:      &metav1.Preconditions{UID: &pod.UID},
		})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) && ctx.Err() == nil {
			logf("delete pod %s/%s: %v", pod.Namespace, pod.Name, err)
		}
		k.mu.Lock()
		delete(k.podIPs, string(pod.UID))
		k.mu.Unlock()
		return
	}
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodRunning {
		return
	}
	status := k.started(pod)
	updated := pod.DeepCopy()
	updated.Status = status
	if _, err := pods.UpdateStatus(ctx, updated, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) && ctx.Err() == nil {
		logf("pod status %s/%s: %v", pod.Namespace, pod.Name, err)
	}
}

// started is the status the kubelet would report once the Pod's containers run (or, for a
// Pod that does not restart, have run to completion).
func (k *kubelet) started(pod *corev1.Pod) corev1.PodStatus {
	now := metav1.Now()
	ip := k.ipFor(string(pod.UID))
	completes := pod.Spec.RestartPolicy == corev1.RestartPolicyNever || pod.Spec.RestartPolicy == corev1.RestartPolicyOnFailure
	cond := func(t corev1.PodConditionType, s corev1.ConditionStatus, reason string) corev1.PodCondition {
		return corev1.PodCondition{Type: t, Status: s, Reason: reason, LastTransitionTime: now}
	}
	phase, ready, readyReason := corev1.PodRunning, corev1.ConditionTrue, ""
	if completes {
		phase, ready, readyReason = corev1.PodSucceeded, corev1.ConditionFalse, "PodCompleted"
	}
	status := corev1.PodStatus{
		Phase:     phase,
		HostIP:    "127.0.0.1",
		HostIPs:   []corev1.HostIP{{IP: "127.0.0.1"}},
		PodIP:     ip,
		PodIPs:    []corev1.PodIP{{IP: ip}},
		StartTime: &now,
		QOSClass:  pod.Status.QOSClass,
		Conditions: []corev1.PodCondition{
			cond(corev1.PodReadyToStartContainers, corev1.ConditionTrue, ""),
			cond(corev1.PodInitialized, corev1.ConditionTrue, readyReasonIf(completes)),
			cond(corev1.PodReady, ready, readyReason),
			cond(corev1.ContainersReady, ready, readyReason),
			cond(corev1.PodScheduled, corev1.ConditionTrue, ""),
		},
	}
	terminated := func(c corev1.Container) corev1.ContainerStatus {
		return corev1.ContainerStatus{
			Name: c.Name, Image: c.Image, ImageID: "simulated://" + c.Image, ContainerID: "simulated://" + string(pod.UID) + "/" + c.Name,
			Started: ptr.To(false),
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				ExitCode: 0, Reason: "Completed", StartedAt: now, FinishedAt: now,
				ContainerID: "simulated://" + string(pod.UID) + "/" + c.Name,
			}},
		}
	}
	for _, c := range pod.Spec.InitContainers {
		status.InitContainerStatuses = append(status.InitContainerStatuses, terminated(c))
	}
	for _, c := range pod.Spec.Containers {
		if completes {
			status.ContainerStatuses = append(status.ContainerStatuses, terminated(c))
			continue
		}
		status.ContainerStatuses = append(status.ContainerStatuses, corev1.ContainerStatus{
			Name: c.Name, Image: c.Image, ImageID: "simulated://" + c.Image, ContainerID: "simulated://" + string(pod.UID) + "/" + c.Name,
			Ready: true, Started: ptr.To(true),
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
		})
	}
	return status
}

func readyReasonIf(completed bool) string {
	if completed {
		return "PodCompleted"
	}
	return ""
}

func (k *kubelet) ipFor(uid string) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	if ip, ok := k.podIPs[uid]; ok {
		return ip
	}
	k.nextIP++
	ip := fmt.Sprintf("10.244.%d.%d", (k.nextIP/250)%250, k.nextIP%250+1)
	k.podIPs[uid] = ip
	return ip
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
