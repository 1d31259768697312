/**
 * The versions of the real services, in one place: the local stack downloads exactly these,
 * and a test checks that `docker/docker-compose.yml` runs the same ones in production.
 */
export const STACK_VERSIONS = {
  kafka: '4.1.2',
  scala: '2.13',
  /** Kafka's POMs use SLF4J 1.7; this log4j2 binding (as in Kafka's own tarball) makes the broker log. */
  log4j: '2.25.3',
  /** 3.0.x runs on Java 17; 3.2+ would need Java 21. */
  apicurio: '3.0.9',
  /** Oldest PostgreSQL major the hub supports; the compose file pins this major. */
  postgresMajor: 15,
} as const;
