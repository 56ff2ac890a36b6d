import CoreMetrics
import InfillService
import Prometheus

/// The Prometheus side of the daemon's metrics: one registry, and the swift-metrics factory over
/// it that ``ServiceMetrics`` is made with, with buckets for the seconds-per-document histogram.
package struct PrometheusExport: Sendable {
    package let registry: PrometheusCollectorRegistry
    package let factory: PrometheusMetricsFactory

    /// A fresh registry (not the process-wide default, so tests can run several daemons).
    package init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets[ServiceMetrics.Name.documentSeconds] =
            ServiceMetrics.documentSecondsBuckets.map { Duration.milliseconds(Int64(($0 * 1000).rounded())) }
        self.factory = factory
    }

    /// The daemon's metrics, registered here.
    package func makeServiceMetrics() -> ServiceMetrics {
        ServiceMetrics(factory: factory)
    }

    /// The registry in the Prometheus text exposition format (version 0.0.4).
    package func exposition() -> [UInt8] {
        registry.emitToBuffer()
    }
}
