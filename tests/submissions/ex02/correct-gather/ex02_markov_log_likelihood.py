

def markov_log_likelihood(states, initial, transition):
    log_a = transition.log()
    total = initial.log().gather(0, states[:, 0])
    for t in range(1, states.shape[1]):
        total = total + log_a[states[:, t - 1], states[:, t]]
    return total
