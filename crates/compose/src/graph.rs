//! The `depends_on` graph: finding a cycle (reported as `a -> b -> a`) and a start order
//! that puts dependencies first.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::Project;

fn edges(project: &Project) -> BTreeMap<&str, Vec<&str>> {
    project
        .services
        .iter()
        .map(|(name, service)| {
            let deps = service
                .depends_on
                .keys()
                .map(String::as_str)
                .filter(|d| project.services.contains_key(*d))
                .collect();
            (name.as_str(), deps)
        })
        .collect()
}

/// The first cycle found, as the chain of service names with the first repeated at the
/// end, or `None` when the graph has no cycle. Iterative, so deep graphs cannot overflow.
pub(crate) fn find_cycle(project: &Project) -> Option<Vec<String>> {
    let edges = edges(project);
    let mut done: BTreeSet<&str> = BTreeSet::new();
    for &start in edges.keys() {
        if done.contains(start) {
            continue;
        }
        // Each frame: a node on the current path and the index of its next edge.
        let mut stack: Vec<(&str, usize)> = vec![(start, 0)];
        let mut on_path: BTreeSet<&str> = BTreeSet::from([start]);
        while let Some((node, next)) = stack.last_mut() {
            let deps = edges.get(*node).map(Vec::as_slice).unwrap_or_default();
            match deps.get(*next) {
                Some(&dep) => {
                    *next += 1;
                    if on_path.contains(dep) {
                        let from = stack.iter().position(|(n, _)| *n == dep).unwrap_or(0);
                        let mut chain: Vec<String> =
                            stack[from..].iter().map(|(n, _)| (*n).to_owned()).collect();
                        chain.push(dep.to_owned());
                        return Some(chain);
                    }
                    if !done.contains(dep) {
                        on_path.insert(dep);
                        stack.push((dep, 0));
                    }
                }
                None => {
                    let node = *node;
                    on_path.remove(node);
                    done.insert(node);
                    stack.pop();
                }
            }
        }
    }
    None
}

/// Kahn's algorithm with a name-ordered ready set; assumes [`find_cycle`] found nothing
/// (services on a cycle are left out).
pub(crate) fn topological_order(project: &Project) -> Vec<&str> {
    let edges = edges(project);
    let mut waiting: BTreeMap<&str, usize> = edges
        .iter()
        .map(|(name, deps)| (*name, deps.len()))
        .collect();
    let mut dependents: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, deps) in &edges {
        for dep in deps {
            dependents.entry(dep).or_default().push(name);
        }
    }
    let mut ready: BTreeSet<&str> = waiting
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(name, _)| *name)
        .collect();
    let mut order = Vec::with_capacity(edges.len());
    while let Some(name) = ready.pop_first() {
        order.push(name);
        for dependent in dependents.get(name).map(Vec::as_slice).unwrap_or_default() {
            if let Some(n) = waiting.get_mut(dependent) {
                *n -= 1;
                if *n == 0 {
                    ready.insert(dependent);
                }
            }
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use crate::model::{Dependency, Project, Service};

    fn project(graph: &[(&str, &[&str])]) -> Project {
        let mut p = Project::default();
        for (name, deps) in graph {
            let mut s = Service::default();
            for d in *deps {
                s.depends_on.insert((*d).to_owned(), Dependency::default());
            }
            p.services.insert((*name).to_owned(), s);
        }
        p
    }

    #[test]
    fn start_order_puts_dependencies_first_and_ties_by_name() {
        let p = project(&[
            ("web", &["db", "cache"]),
            ("db", &[]),
            ("cache", &["db"]),
            ("a", &[]),
        ]);
        assert_eq!(p.start_order().unwrap(), ["a", "db", "cache", "web"]);
    }

    #[test]
    fn a_cycle_is_reported_as_a_chain() {
        let p = project(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"])]);
        let err = p.start_order().unwrap_err();
        assert_eq!(err.chain, ["a", "b", "c", "a"]);
        assert_eq!(err.to_string(), "dependency cycle: a -> b -> c -> a");
    }

    #[test]
    fn depending_on_itself_is_a_cycle() {
        let p = project(&[("a", &["a"])]);
        assert_eq!(p.start_order().unwrap_err().chain, ["a", "a"]);
    }
}
