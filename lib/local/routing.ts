/**
 * API Gateway's resource matching, for the local gateway: a request's method and path (below
 * the stage) against the route table's resource paths, `{name}` segments becoming decoded path
 * parameters, and the CORS preflights (OPTIONS on each CORS path) as mock integrations.
 */
import { corsPaths, type RouteSpec } from '../routes.js';

export interface RouteMatch {
  readonly route: RouteSpec;
  /** null when the resource path has no `{name}` segment, as in API Gateway's event. */
  readonly pathParameters: Record<string, string> | null;
}

interface CompiledPath {
  readonly pattern: RegExp;
  readonly parameterNames: readonly string[];
}

function compilePath(path: string): CompiledPath {
  const parameterNames: string[] = [];
  const segments = path.split('/').map((segment) => {
    const parameter = /^\{(\w+)\}$/.exec(segment);
    if (!parameter) return segment.replace(/[.*+?^$()|[\]{}\\]/g, '\\$&');
    parameterNames.push(parameter[1]);
    return '([^/]+)';
  });
  return { pattern: new RegExp(`^${segments.join('/')}$`), parameterNames };
}

/** API Gateway decodes path parameters; a segment that is not valid UTF-8 when decoded stays as sent. */
function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export class RouteMatcher {
  private readonly routes: Array<{ spec: RouteSpec } & CompiledPath>;
  /** The CORS mock integrations: OPTIONS on each CORS path, with the methods it allows. */
  private readonly preflights: Array<{ pattern: RegExp; methods: string[] }>;

  constructor(routes: readonly RouteSpec[]) {
    this.routes = routes.map((spec) => ({ spec, ...compilePath(spec.path) }));
    this.preflights = [...corsPaths(routes)].map(([path, methods]) => ({
      pattern: compilePath(path).pattern,
      methods,
    }));
  }

  /** The methods a preflight on this path allows, or undefined when the path has none. */
  preflightFor(path: string): string[] | undefined {
    return this.preflights.find((preflight) => preflight.pattern.test(path))?.methods;
  }

  /** The first route of the table with this method whose resource path matches. */
  match(method: string, path: string): RouteMatch | undefined {
    for (const route of this.routes) {
      if (route.spec.method !== method) continue;
      const m = route.pattern.exec(path);
      if (!m) continue;
      const pathParameters =
        route.parameterNames.length === 0
          ? null
          : Object.fromEntries(route.parameterNames.map((name, i) => [name, decodePathSegment(m[i + 1])]));
      return { route: route.spec, pathParameters };
    }
    return undefined;
  }
}
